package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.testing.FakeTelegramServer;
import dev.ferry.testing.GatewayProcess;

/**
 * Telegram's promise with real crashes: while several chats send a steady stream of messages with unique
 * tokens, the gateway process is killed with SIGKILL twice, with updates in flight, and started again on
 * the same state dir. Telegram keeps what was not confirmed, as the real Bot API does. In the end the
 * Bot API server, which is the sink, reports every update answered exactly once.
 */
class TelegramCrashIT {

    private static final String TOKEN = "424242:FERRY-TEST-TOKEN-never-logged";
    private static final Pattern TOKEN_IN_TEXT = Pattern.compile("tok-\\d+-\\d+");
    private static final long FIRST_UPDATE_ID = 5000;
    private static final int CHATS = 4;
    private static final int PER_CHAT = 60;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    /** The gateway running now: stopped after the test, so that a failed case leaves no process behind. */
    private GatewayProcess gateway;

    @AfterEach
    void stopTheGateway() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void everyUpdateIsAnsweredExactlyOnceAcrossTwoKillsWithUpdatesInFlight() throws Exception {
        try (FakeTelegramServer telegram = FakeTelegramServer.start(TOKEN, "ferrybot", FIRST_UPDATE_ID)) {
            Path config = dir.resolve("ferry.json5");
            Files.writeString(config, """
                    {
                      gateway: { port: %d },
                      state: { dir: "%s" },
                      agent: { echo: { delayMs: 10 } },
                      // Room for the backlog a restart finds: the default cap would summarise it, by design.
                      messages: { queue: { mode: "followup", debounceMs: 0, cap: 1000 } },
                      channels: { telegram: { enabled: true, botToken: "%s", apiBaseUrl: "%s", pollTimeoutS: 1 } },
                    }
                    """.formatted(GatewayProcess.freePort(), dir.resolve("state"), TOKEN, telegram.apiBaseUrl()));
            StringBuilder logs = new StringBuilder();
            gateway = GatewayProcess.start("gateway", "--config", config.toString());
            gateway.awaitReady(TIMEOUT);

            Thread feeder = telegram.feedTokens(CHATS, PER_CHAT, Duration.ofMillis(50));

            for (int threshold : List.of(40, 140)) {
                // Killed at a moment the stream's intake picks (so not in step with any reply): updates fetched
                // and not yet confirmed, turns running, replies going out.
                await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(5))
                        .until(() -> telegram.confirmedOffset() >= FIRST_UPDATE_ID + threshold);
                gateway.process().destroyForcibly();
                assertThat(gateway.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
                assertThat(gateway.process().exitValue()).as("killed by SIGKILL").isEqualTo(137);
                logs.append(gateway.output()).append('\n');
                gateway = GatewayProcess.start("gateway", "--config", config.toString());
                gateway.awaitReady(TIMEOUT);
            }
            feeder.join(TIMEOUT.toMillis());
            Set<String> all = new HashSet<>();
            for (int chat = 1; chat <= CHATS; chat++) {
                for (int i = 0; i < PER_CHAT; i++) {
                    all.add("tok-" + chat + "-" + i);
                }
            }
            try {
                await().atMost(TIMEOUT).until(() -> telegram.sentByToken(TOKEN_IN_TEXT).keySet().containsAll(all));
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                Set<String> missing = new java.util.TreeSet<>(all);
                missing.removeAll(telegram.sentByToken(TOKEN_IN_TEXT).keySet());
                throw new AssertionError("never answered: " + missing + "\nstored updates: " + telegram.storedUpdates()
                        + "\nlast gateway's log:\n" + gateway.output(), e);
            }
            gateway.process().destroy();
            assertThat(gateway.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            logs.append(gateway.output());

            Map<String, Set<String>> byToken = telegram.sentByToken(TOKEN_IN_TEXT);
            long answeredTwice = byToken.values().stream().filter(replies -> replies.size() > 1).count();
            long neverAnswered = all.stream().filter(token -> !byToken.containsKey(token)).count();
            Map<String, Integer> copies = new HashMap<>();
            telegram.sent().forEach(sent -> copies.merge(sent.chatId() + "|" + sent.text(), 1, Integer::sum));
            long resent = copies.values().stream().filter(n -> n > 1).count();
            System.out.printf("telegram crash test: 2 kills, updates sent %d, answered %d, answered twice %d,"
                    + " never answered %d; %d replies sent again whole after a kill between send and record%n",
                    all.size(), byToken.size(), answeredTwice, neverAnswered, resent);
            assertThat(answeredTwice).as("updates answered by two different replies").isZero();
            assertThat(neverAnswered).as("updates never answered").isZero();
            assertThat(telegram.storedUpdates()).as("every update confirmed").isZero();
            assertThat(logs.toString()).as("the bot token is never logged").doesNotContain(TOKEN).doesNotContain("FERRY-TEST-TOKEN");
        }
    }
}
