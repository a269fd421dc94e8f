package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class QueueSettingsTest {

    @ParameterizedTest
    @CsvSource({
        "followup, FOLLOWUP", "FollowUps, FOLLOWUP", "follow-ups, FOLLOWUP",
        "collect, COLLECT", "COALESCE, COLLECT",
        "steer, STEER", "Steering, STEER", "queue, STEER", "' queued ', STEER",
        "steer-backlog, STEER_BACKLOG", "steer+backlog, STEER_BACKLOG", "STEER_BACKLOG, STEER_BACKLOG",
        "interrupt, INTERRUPT", "interrupts, INTERRUPT", "Abort, INTERRUPT"})
    void queueModeAliasesParseCaseInsensitively(String text, QueueMode expected) {
        assertThat(QueueMode.parse(text)).contains(expected);
    }

    @Test
    void unknownQueueModeOrDropPolicyParsesToEmpty() {
        assertThat(QueueMode.parse("later")).isEmpty();
        assertThat(QueueMode.parse(null)).isEmpty();
        assertThat(DropPolicy.parse("all")).isEmpty();
        assertThat(DropPolicy.parse(null)).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({"new, NEW", "Newest, NEW", "old, OLD", "OLDEST, OLD", "summarize, SUMMARIZE", " summary , SUMMARIZE"})
    void dropPolicyAliasesParseCaseInsensitively(String text, DropPolicy expected) {
        assertThat(DropPolicy.parse(text)).contains(expected);
    }

    @Test
    void configNamesRoundTrip() {
        for (QueueMode mode : QueueMode.values()) {
            assertThat(QueueMode.parse(mode.configName())).contains(mode);
        }
        for (DropPolicy drop : DropPolicy.values()) {
            assertThat(DropPolicy.parse(drop.configName())).contains(drop);
        }
        assertThat(QueueMode.STEER_BACKLOG.configName()).isEqualTo("steer-backlog");
    }

    @Test
    void byChannelOverridesResolve() throws Exception {
        MessagesConfig messages = ConfigLoader.parse("""
                { messages: {
                    inbound: { debounceMs: 200, byChannel: { telegram: 1500, webchat: 0 } },
                    queue: { mode: 'followup', debounceMs: 500, cap: 10, drop: 'old',
                             byChannel: { webchat: { mode: 'collect' }, telegram: { cap: 2, drop: 'summary', debounceMs: 0 } } } } }
                """, null).config().messages();

        assertThat(messages.inbound().debounceMsFor("telegram")).isEqualTo(1500);
        assertThat(messages.inbound().debounceMsFor("webchat")).isZero();
        assertThat(messages.inbound().debounceMsFor("webhook")).isEqualTo(200);
        assertThat(messages.inbound().debounceMsFor(null)).isEqualTo(200);
        assertThat(messages.inbound().maxWaitMsFor("telegram")).isEqualTo(7500);
        assertThat(messages.inbound().maxWaitMsFor("webhook")).isEqualTo(1000);

        assertThat(messages.queue().settingsFor("webchat"))
                .isEqualTo(new QueueSettings(QueueMode.COLLECT, 500, 10, DropPolicy.OLD));
        assertThat(messages.queue().settingsFor("telegram"))
                .isEqualTo(new QueueSettings(QueueMode.FOLLOWUP, 0, 2, DropPolicy.SUMMARIZE));
        assertThat(messages.queue().settingsFor("control"))
                .isEqualTo(new QueueSettings(QueueMode.FOLLOWUP, 500, 10, DropPolicy.OLD));
    }

    @Test
    void explicitMaxWaitWinsOverTheFiveWindowDefault() {
        InboundConfig inbound = new InboundConfig(100, 250, 50, 2048, Map.of("telegram", 1000L));

        assertThat(inbound.maxWaitMsFor("telegram")).isEqualTo(250);
        assertThat(inbound.maxWaitMsFor("webhook")).isEqualTo(250);
    }

    @Test
    void queueMaxWaitIsFiveDebounceWindowsUnlessSetAndEachChannelMayHaveItsOwn() throws Exception {
        QueueConfig queue = ConfigLoader.parse("""
                { messages: { queue: { debounceMs: 800, byChannel: { telegram: { maxWaitMs: 3000 },
                                                                    webchat: { debounceMs: 100 } } } } }
                """, null).config().messages().queue();

        assertThat(queue.maxWaitMs()).isZero();
        assertThat(queue.settingsFor("webhook").longestWaitMs()).isEqualTo(4_000);
        assertThat(queue.settingsFor("telegram").longestWaitMs()).isEqualTo(3_000);
        assertThat(queue.settingsFor("webchat").longestWaitMs()).as("five of the channel's own windows").isEqualTo(500);
        assertThat(ConfigLoader.parse("{messages: {queue: {maxWaitMs: 2500}}}", null).config().messages().queue()
                .settingsFor("webhook").longestWaitMs()).isEqualTo(2_500);
        assertThat(new QueueSettings(QueueMode.COLLECT, Long.MAX_VALUE, 1, DropPolicy.NEW).longestWaitMs())
                .isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void recordsCopyTheirCollections() {
        java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of("a"));
        CommandConfig command = new CommandConfig(argv, 1);
        argv.add("b");

        assertThat(command.argv()).containsExactly("a");
        assertThat(new QueueConfig(QueueMode.COLLECT, 0, 0, 1, DropPolicy.NEW, true, null).byChannel()).isEmpty();
    }
}
