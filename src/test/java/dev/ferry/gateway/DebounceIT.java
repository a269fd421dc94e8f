package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.Settled;
import dev.ferry.testing.ReplySink;

/** The debouncer between intake and sessions, end to end over real HTTP. */
class DebounceIT {

    @TempDir
    Path state;

    private ReplySink sink;
    private Gateway gateway;
    private GatewayClient client;

    @BeforeEach
    void start() throws Exception {
        sink = new ReplySink();
        String config = "{ gateway: { port: 0 }, state: { dir: '" + state + "' },"
                + " messages: { inbound: { debounceMs: 300 } },"
                + " channels: { webhook: { replyUrl: '" + sink.url() + "' } } }";
        gateway = Gateway.start(ConfigLoader.parse(config, null));
        client = new GatewayClient(gateway.url(), null);
    }

    @AfterEach
    void stop() {
        gateway.close();
        sink.close();
    }

    @Test
    void threeQuickMessagesFromOneSenderGiveOneReplyWithTheTextsInOrder() {
        client.webhookMessage("q-1", "burst", "ann", "first");
        client.webhookMessage("q-2", "burst", "ann", "second");
        client.webhookMessage("q-3", "burst", "ann", "third");

        await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 1);
        var reply = sink.accepted().get(0).body();
        assertThat(reply.get("text").asText()).isEqualTo("echo: first\nsecond\nthird");
        assertThat(reply.get("inReplyTo")).extracting(node -> node.asText()).containsExactly("q-1", "q-2", "q-3");
        // Nothing is left that could make a second reply: no buffered key, no pending message, no turn, no send.
        Settled.awaitSettled(client, Duration.ofSeconds(5));
        assertThat(sink.accepted()).hasSize(1);
    }

    @Test
    void twoSendersInOneConversationGiveTwoReplies() {
        client.webhookMessage("s-1", "shared", "ann", "from ann");
        client.webhookMessage("s-2", "shared", "bob", "from bob");
        client.webhookMessage("s-3", "shared", "ann", "ann again");

        await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 2);
        // The two senders share the conversation's session, so one batch may find the other's turn running
        // and be answered in the collect format; either way each sender's burst is one reply.
        assertThat(sink.accepted()).extracting(r -> r.body().get("to").asText())
                .containsExactlyInAnyOrder("ann", "bob");
        assertThat(sink.accepted()).anySatisfy(reply -> assertThat(reply.body().get("text").asText())
                .contains("from ann\nann again").doesNotContain("from bob"));
        assertThat(sink.accepted()).anySatisfy(reply -> assertThat(reply.body().get("text").asText())
                .contains("from bob").doesNotContain("from ann"));
    }

    @Test
    void flushAllInboundDebouncersDeliversWhatALongWindowStillHolds() throws Exception {
        // A state dir of its own: the gateway from start() still holds the first one's journal.
        String config = "{ gateway: { port: 0 }, state: { dir: '" + state.resolve("slow") + "' },"
                + " messages: { inbound: { debounceMs: 600000 } },"
                + " channels: { webhook: { replyUrl: '" + sink.url() + "' } } }";
        try (Gateway slow = Gateway.start(ConfigLoader.parse(config, null))) {
            var slowClient = new GatewayClient(slow.url(), null);
            slowClient.webhookMessage("w-1", "held", "cat", "held for ten minutes");
            slowClient.webhookMessage("w-2", "held", "dan", "me too");
            assertThat(slowClient.rpc("status").body().at("/payload/bufferedDebounceKeys").asInt()).isEqualTo(2);

            var report = slow.flushAllInboundDebouncers(Duration.ofSeconds(5));

            assertThat(report.flushed()).isEqualTo(2);
            assertThat(report.drained()).isTrue();
            assertThat(slowClient.rpc("status").body().at("/payload/bufferedDebounceKeys").asInt()).isZero();
            await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 2);
        }
    }
}
