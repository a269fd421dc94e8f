package dev.ferry.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ferry.channel.webhook.WebhookChannel;
import dev.ferry.config.ConfigLoader;
import dev.ferry.config.FerryConfig;
import dev.ferry.debounce.DebouncerRegistry;
import dev.ferry.debounce.InboundBatch;
import dev.ferry.delivery.Outbox;
import dev.ferry.delivery.ReplyTransport;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.delivery.SendOutcome;
import dev.ferry.events.GatewayEvents;
import dev.ferry.intake.Intake;
import dev.ferry.journal.InMemoryJournal;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Reply;
import dev.ferry.time.ManualScheduler;
import dev.ferry.time.WallClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

class ChannelsTest {

    private static final String WEBHOOK_PATH = "/channels/webhook/inbound";

    private final ManualScheduler clock = new ManualScheduler();
    private final InMemoryJournal journal = new InMemoryJournal();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final Outbox outbox = new Outbox(journal, clock, RetryPolicy.DEFAULT, metrics);
    private final DebouncerRegistry registry = new DebouncerRegistry(clock);
    private final List<InboundBatch> toSessions = new ArrayList<>();
    /** Every fake channel made, in order: a rebuild makes a second one. */
    private final List<FakeChannel> made = new ArrayList<>();
    private final Channels channels = new Channels(new ChannelCatalog(List.of(
            ChannelCatalog.Entry.named("control"),
            ChannelCatalog.Entry.adapter(WebhookChannel.NAME, WebhookChannel::new),
            ChannelCatalog.Entry.adapter(FakeChannel.NAME, () -> {
                FakeChannel channel = new FakeChannel();
                made.add(channel);
                return channel;
            }))), toSessions::add, registry, outbox);

    ChannelsTest() {
        Intake intake = new Intake(journal, channels, metrics);
        channels.start(new ChannelContext(intake, clock, WallClock.SYSTEM, HttpClient::newHttpClient,
                GatewayEvents.NONE, metrics, name -> null));
    }

    @AfterEach
    void close() {
        channels.close();
    }

    @Test
    void firstCommitEnablesEachEnabledChannelWithItsDebouncerEndpointAndTransport() {
        channels.prepare(config("")).commit();

        assertThat(channels.names()).containsExactly("webhook", "webchat");
        assertThat(registry.size()).as("one debouncer per enabled channel").isEqualTo(2);
        assertThat(channels.endpointAt(WEBHOOK_PATH)).get().extracting(EndpointLookup.Mounted::enabled).isEqualTo(true);
        assertThat(channels.endpointAt("/nowhere")).isEmpty();

        outbox.enqueue(reply("webchat"));
        assertThat(fake().sent).as("the channel's transport is installed in the outbox").hasSize(1);
    }

    @Test
    void aPreparedChangeHasNoVisibleEffectUntilItIsCommitted() {
        channels.prepare(config("")).commit();

        Channels.Prepared prepared = channels.prepare(config(
                "channels: { webhook: { enabled: false }, webchat: { enabled: false } }"));
        assertThat(channels.endpointAt(WEBHOOK_PATH)).get().extracting(EndpointLookup.Mounted::enabled).isEqualTo(true);
        assertThat(registry.size()).isEqualTo(2);
        assertThat(fake().committed).isEqualTo(1);

        prepared.commit();
        assertThat(channels.endpointAt(WEBHOOK_PATH)).as("its path is still known, as disabled")
                .get().extracting(EndpointLookup.Mounted::enabled).isEqualTo(false);
        assertThat(registry.size()).isZero();
        assertThat(fake().committed).isEqualTo(2);
    }

    @Test
    void aChannelThatFailsToPrepareLeavesEveryChannelAsItWas() {
        channels.prepare(config("")).commit();
        fake().failNextPrepare = true;

        assertThatThrownBy(() -> channels.prepare(config("channels: { webhook: { enabled: false } }")))
                .hasMessage("no such bot");

        assertThat(channels.endpointAt(WEBHOOK_PATH)).get().extracting(EndpointLookup.Mounted::enabled).isEqualTo(true);
        assertThat(registry.size()).isEqualTo(2);
        // The failure released the change it stopped: a new one can be prepared and committed.
        channels.prepare(config("channels: { webhook: { enabled: false } }")).commit();
        assertThat(channels.endpointAt(WEBHOOK_PATH)).get().extracting(EndpointLookup.Mounted::enabled).isEqualTo(false);
    }

    @Test
    void aDiscardedChangeDropsEveryPreparedPart() {
        channels.prepare(config("")).commit();

        Channels.Prepared prepared = channels.prepare(config(
                "channels: { webhook: { enabled: false }, webchat: { enabled: false } }"));
        prepared.discard();
        prepared.discard();

        assertThat(fake().discarded).isEqualTo(1);
        assertThat(fake().committed).isEqualTo(1);
        assertThat(registry.size()).isEqualTo(2);
        assertThatThrownBy(prepared::commit).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void onlyOneChangeIsPreparedAtATime() {
        channels.prepare(config(""));

        assertThatThrownBy(() -> channels.prepare(config(""))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("neither committed nor discarded");
    }

    @Test
    void debounceSettingsOfAReloadApplyOnlyOnCommit() {
        channels.prepare(config("")).commit();
        Channels.Prepared prepared = channels.prepare(config("messages: { inbound: { debounceMs: 300 } }"));

        channels.accept(message("one"));
        assertThat(toSessions).as("the window is still off").hasSize(1);

        prepared.commit();
        channels.accept(message("two"));
        channels.accept(message("three"));
        assertThat(toSessions).hasSize(1);
        assertThat(channels.bufferedKeys()).isEqualTo(1);
        clock.advance(Duration.ofMillis(300));
        assertThat(toSessions).hasSize(2);
        assertThat(toSessions.get(1).messages()).extracting(InboundMessage::text).containsExactly("two", "three");
    }

    @Test
    void aChatCommandGoesAtOnceAfterFlushingItsKey() {
        channels.prepare(config("messages: { inbound: { debounceMs: 300 } }")).commit();

        channels.accept(message("hello"));
        channels.accept(message("/status"));

        assertThat(toSessions).extracting(batch -> batch.messages().get(0).text()).containsExactly("hello", "/status");
    }

    @Test
    void aMessageOfAChannelWithoutADebouncerGoesStraightToTheSessions() {
        channels.prepare(config("messages: { inbound: { debounceMs: 300 } }")).commit();

        channels.accept(new InboundMessage(7, "control", "default", "c", "ann", "m7", "hi", null, null, List.of(), 0));

        assertThat(toSessions).hasSize(1);
        assertThat(toSessions.get(0).messages()).extracting(InboundMessage::seq).containsExactly(7L);
    }

    @Test
    void disablingAChannelFlushesWhatItsDebouncerHeld() {
        channels.prepare(config("messages: { inbound: { debounceMs: 300 } }")).commit();
        channels.accept(message("held"));

        channels.prepare(config("messages: { inbound: { debounceMs: 300 } }, channels: { webhook: { enabled: false } }"))
                .commit();

        assertThat(toSessions).extracting(batch -> batch.messages().get(0).text()).containsExactly("held");
        channels.accept(message("late"));
        assertThat(toSessions).as("a message journaled before the disable still goes on").hasSize(2);
    }

    @Test
    void aRebuildSwapsInANewInstanceOnCommitAndClosesTheOld() {
        channels.prepare(config("")).commit();
        FakeChannel first = fake();
        first.rebuildNext = true;

        Channels.Prepared prepared = channels.prepare(config("channels: { webchat: { enabled: false } }"));
        assertThat(made).hasSize(2);
        assertThat(first.closed).isFalse();

        prepared.commit();
        assertThat(first.closed).isTrue();
        assertThat(made.get(1).committed).isEqualTo(1);
        assertThat(made.get(1).closed).isFalse();
    }

    @Test
    void aDiscardedRebuildClosesTheNewInstanceAndKeepsTheOld() {
        channels.prepare(config("")).commit();
        fake().rebuildNext = true;

        channels.prepare(config("channels: { webchat: { enabled: false } }")).discard();

        assertThat(made).hasSize(2);
        assertThat(made.get(0).closed).isFalse();
        assertThat(made.get(1).closed).isTrue();
        assertThat(made.get(1).discarded).isEqualTo(1);
    }

    @Test
    void closeStopsEveryChannelAndFlushesTheDebouncers() {
        channels.prepare(config("messages: { inbound: { debounceMs: 300 } }")).commit();
        channels.accept(message("held"));

        channels.close();

        assertThat(fake().closed).isTrue();
        assertThat(toSessions).hasSize(1);
        assertThat(registry.size()).isZero();
    }

    private FakeChannel fake() {
        return made.get(made.size() - 1);
    }

    private static FerryConfig config(String body) {
        try {
            return ConfigLoader.parse("{ " + body + " }", null).config();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static int seq;

    private static InboundMessage message(String text) {
        seq++;
        return new InboundMessage(seq, "webhook", "default", "c", "ann", "m" + seq, text, null, null, List.of(), 0);
    }

    private static Reply reply(String channel) {
        return new Reply("r-" + channel, 1, "agent:main:" + channel + ":default:c", channel, "default", "c", "ann", null,
                "hi", List.of("m1"));
    }

    /** A channel under the webchat name, toggled by {@code channels.webchat.enabled}; it records what it is asked. */
    static final class FakeChannel implements Channel {
        static final String NAME = "webchat";

        final List<Reply> sent = new ArrayList<>();
        final AtomicInteger prepares = new AtomicInteger();
        boolean failNextPrepare;
        boolean rebuildNext;
        int committed;
        int discarded;
        boolean closed;
        private Boolean enabled;

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public void start(ChannelContext context) {}

        @Override
        public boolean enabledIn(FerryConfig config) {
            return config.channels().webchat().enabled();
        }

        @Override
        public ChannelChange prepare(FerryConfig next) {
            prepares.incrementAndGet();
            if (failNextPrepare) {
                failNextPrepare = false;
                throw new IllegalStateException("no such bot");
            }
            if (rebuildNext) {
                rebuildNext = false;
                return ChannelChange.REBUILD;
            }
            boolean now = enabledIn(next);
            if (enabled != null && enabled == now) {
                return ChannelChange.UNCHANGED;
            }
            return ChannelChange.inPlace(() -> {
                enabled = now;
                committed++;
            }, () -> discarded++);
        }

        @Override
        public Optional<ChannelEndpoint> endpoint() {
            return Optional.empty();
        }

        @Override
        public Optional<ReplyTransport> replyTransport() {
            return Optional.of(reply -> {
                sent.add(reply);
                return new CompletableFuture<SendOutcome>();
            });
        }

        @Override
        public int maxConcurrentSends() {
            return 4;
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
