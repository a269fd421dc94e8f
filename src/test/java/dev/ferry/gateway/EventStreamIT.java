package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.config.ConfigLoader;
import dev.ferry.events.EventSubscription;
import dev.ferry.events.GatewayEvent;
import dev.ferry.events.GatewayEvent.QueueChange;
import dev.ferry.events.GatewayEvent.TurnOutcome;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.ReplySink;
import dev.ferry.testing.Settled;

/**
 * The gateway's event stream, watched by a subscriber as a WebSocket client will: one message's whole
 * path in order, a message queued behind a busy turn, and a subscriber that never reads, which costs the
 * gateway nothing but its own buffer.
 */
class EventStreamIT {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private ReplySink sink;
    private Gateway gateway;
    private GatewayClient client;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (sink != null) {
            sink.close();
        }
    }

    private void start(String more) throws Exception {
        sink = new ReplySink();
        gateway = Gateway.start(ConfigLoader.parse("{ gateway: { port: 0 }, state: { dir: '" + dir.resolve("state")
                + "' }, channels: { webhook: { replyUrl: '" + sink.url() + "' } }" + more + " }", null));
        client = new GatewayClient(gateway.url(), null);
    }

    /** Reads until a {@code ReplyDelivered} for {@code session} has been seen {@code replies} times. */
    private static List<GatewayEvent> readUntilDelivered(EventSubscription events, String session, int replies)
            throws InterruptedException {
        List<GatewayEvent> seen = new ArrayList<>();
        int delivered = 0;
        while (delivered < replies) {
            GatewayEvent event = events.take(PATIENCE);
            assertThat(event).as("an event within %s; so far %s", PATIENCE, seen).isNotNull();
            if (session.equals(event.sessionKey())) {
                seen.add(event);
                if (event instanceof GatewayEvent.ReplyDelivered) {
                    delivered++;
                }
            }
        }
        return seen;
    }

    @Test
    void oneMessageIsSeenStartedStreamedEndedCommittedAndDeliveredInThatOrder() throws Exception {
        start(", messages: { inbound: { debounceMs: 0 } }");
        EventSubscription events = gateway.events().subscribe(256);

        assertThat(client.webhookMessage("m-1", "room", "ann", "hello").status()).isEqualTo(202);
        List<GatewayEvent> path = readUntilDelivered(events, "agent:main:webhook:default:room", 1);

        assertThat(path).extracting(event -> (Object) event.getClass().getSimpleName()).containsExactly(
                "TurnStarted", "TextDelta", "TextDelta", "TurnEnded", "ReplyCommitted", "ReplyDelivered");
        var started = (GatewayEvent.TurnStarted) path.get(0);
        assertThat(started.messageIds()).containsExactly("m-1");
        assertThat(started.channel()).isEqualTo("webhook");
        assertThat(started.conversation()).isEqualTo("room");
        assertThat(((GatewayEvent.TextDelta) path.get(1)).text() + ((GatewayEvent.TextDelta) path.get(2)).text())
                .isEqualTo("echo: hello");
        assertThat(((GatewayEvent.TurnEnded) path.get(3)).outcome()).isEqualTo(TurnOutcome.REPLIED);
        var committed = (GatewayEvent.ReplyCommitted) path.get(4);
        assertThat(committed.text()).isEqualTo("echo: hello");
        assertThat(committed.inReplyTo()).containsExactly("m-1");
        assertThat(((GatewayEvent.ReplyDelivered) path.get(5)).replyId()).isEqualTo(committed.replyId());
        assertThat(sink.accepted().get(0).idempotencyKey()).isEqualTo(committed.replyId());
    }

    @Test
    void aMessageBehindABusyTurnIsSeenQueuedBeforeItsOwnTurnStarts() throws Exception {
        start(", messages: { inbound: { debounceMs: 0 }, queue: { mode: 'followup', debounceMs: 0 } },"
                + " agent: { echo: { delayMs: 300 } }");
        EventSubscription events = gateway.events().subscribe(256);

        client.webhookMessage("b-1", "busy", "ann", "first");
        await().atMost(PATIENCE).until(() -> client.rpc("status").body().at("/payload/runningTurns").asInt() == 1);
        client.webhookMessage("b-2", "busy", "ann", "second");
        List<GatewayEvent> path = readUntilDelivered(events, "agent:main:webhook:default:busy", 2);

        var queued = path.stream().filter(GatewayEvent.QueueChanged.class::isInstance)
                .map(GatewayEvent.QueueChanged.class::cast).toList();
        assertThat(queued).hasSize(1);
        assertThat(queued.get(0).change()).isEqualTo(QueueChange.QUEUED);
        assertThat(queued.get(0).messageId()).isEqualTo("b-2");
        int queuedAt = path.indexOf(queued.get(0));
        int secondStarted = -1;
        for (int i = 0; i < path.size(); i++) {
            if (path.get(i) instanceof GatewayEvent.TurnStarted started && started.messageIds().contains("b-2")) {
                secondStarted = i;
            }
        }
        assertThat(secondStarted).as("the queued message's turn starts after it was queued").isGreaterThan(queuedAt);
        assertThat(path).filteredOn(GatewayEvent.TurnEnded.class::isInstance).hasSize(2);
    }

    @Test
    void aSubscriberThatNeverReadsLosesOnlyItsOwnEventsAndEveryReplyStillArrives() throws Exception {
        start(", messages: { inbound: { debounceMs: 0 } }");
        int gatewaysOwn = gateway.events().subscriberCount();
        EventSubscription stalled = gateway.events().subscribe(8);
        EventSubscription reader = gateway.events().subscribe(100_000);
        int conversations = 40;
        int perConversation = 10;

        for (int i = 0; i < perConversation; i++) {
            for (int c = 0; c < conversations; c++) {
                assertThat(client.webhookMessage("n-" + c + "-" + i, "c-" + c, "ann", "hi " + i).status()).isEqualTo(202);
            }
        }
        await().atMost(PATIENCE).until(() -> sink.accepted().size() == conversations * perConversation);
        Settled.awaitSettled(client, PATIENCE);

        assertThat(stalled.closeReason()).as("closed once its buffer held only what it must not lose")
                .startsWith("overflow");
        assertThat(stalled.lostDeltas()).isPositive();
        assertThat(stalled.buffered()).isLessThanOrEqualTo(8);
        List<GatewayEvent> all = reader.drain();
        assertThat(all).filteredOn(GatewayEvent.ReplyDelivered.class::isInstance)
                .hasSize(conversations * perConversation);
        assertThat(reader.lostDeltas()).isZero();
        assertThat(gateway.events().subscriberCount()).as("the stalled one was let go").isEqualTo(gatewaysOwn + 1);
    }

    @Test
    void aReloadIsSeenWithItsNewGenerationAndAStopIsSeenBeforeTheStreamCloses() throws Exception {
        start("");
        EventSubscription events = gateway.events().subscribe(64);

        assertThat(gateway.reload("test").get().applied()).isTrue();
        GatewayEvent reloaded = events.take(PATIENCE);
        gateway.stopGracefully();

        assertThat(reloaded).isEqualTo(new GatewayEvent.ReloadApplied(2));
        assertThat(events.drain()).containsExactly(new GatewayEvent.ShuttingDown(2));
        assertThat(events.closeReason()).isEqualTo("gateway stopped");
        gateway = null;
    }
}
