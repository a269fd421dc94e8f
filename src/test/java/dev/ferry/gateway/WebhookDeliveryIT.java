package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;

import dev.ferry.control.Json;
import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.ReplySink;

/** A real gateway on an ephemeral port, a real reply sink, real HTTP between them. */
class WebhookDeliveryIT {

    @TempDir
    Path state;

    private ReplySink sink;
    private Gateway gateway;
    private GatewayClient client;

    @BeforeEach
    void startSink() throws Exception {
        sink = new ReplySink();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        sink.close();
    }

    private void startGateway(String extra) throws Exception {
        String config = "{ gateway: { port: 0 }, state: { dir: '" + state + "' },"
                + " channels: { webhook: { replyUrl: '" + sink.url() + "' } }, " + extra + " }";
        gateway = Gateway.start(ConfigLoader.parse(config, null));
        client = new GatewayClient(gateway.url(), null);
    }

    @Test
    void replyCarriesEverySpecFieldAndTheReplyIdAsIdempotencyKey() throws Exception {
        startGateway("");

        var answer = client.webhookMessage("m-1", "room-7", "alice", "hello there");

        assertThat(answer.status()).isEqualTo(202);
        assertThat(answer.body().get("accepted").asBoolean()).isTrue();
        assertThat(answer.body().get("duplicate").asBoolean()).isFalse();
        assertThat(answer.body().get("seq").asLong()).isPositive();
        await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 1);
        ReplySink.Received reply = sink.accepted().get(0);
        JsonNode body = reply.body();
        assertThat(body.get("text").asText()).isEqualTo("echo: hello there");
        assertThat(body.get("conversation").asText()).isEqualTo("room-7");
        assertThat(body.get("to").asText()).isEqualTo("alice");
        assertThat(body.get("inReplyTo")).hasSize(1);
        assertThat(body.get("inReplyTo").get(0).asText()).isEqualTo("m-1");
        assertThat(body.get("replyId").asText()).isNotBlank();
        assertThat(reply.idempotencyKey()).isEqualTo(body.get("replyId").asText());
    }

    @Test
    void sinkThatFailsTwiceStillGetsTheReplyOnceItAnswers2xx() throws Exception {
        startGateway("");
        sink.failNext(2);

        client.webhookMessage("m-1", "room", "bob", "are you there?");

        await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 1);
        List<ReplySink.Received> attempts = sink.requests();
        assertThat(attempts).hasSize(3);
        assertThat(attempts).extracting(ReplySink.Received::status).containsExactly(503, 503, 200);
        assertThat(attempts).extracting(ReplySink.Received::idempotencyKey).containsOnly(attempts.get(0).idempotencyKey());
        await().atMost(Duration.ofSeconds(5))
                .until(() -> client.rpc("status").body().at("/payload/outbox/pending").asInt() == 0);
        assertThat(sink.accepted()).hasSize(1);
    }

    @Test
    void repliesOfASessionArriveInTheOrderOfItsMessages() throws Exception {
        // A delay keeps the session busy, so later messages queue behind the running turn; followup mode
        // gives each its own turn and reply. The cap holds all 30, so a slow machine cannot make it drop one.
        startGateway("agent: { echo: { delayMs: 5 } }, messages: { queue: { mode: 'followup', debounceMs: 0, cap: 50 } }");
        sink.failNext(1);
        List<String> texts = IntStream.range(0, 30).mapToObj(i -> "message " + i).toList();

        for (int i = 0; i < texts.size(); i++) {
            assertThat(client.webhookMessage("m-" + i, "ordered", "carol", texts.get(i)).status()).isEqualTo(202);
        }

        await().atMost(Duration.ofSeconds(20)).until(() -> sink.accepted().size() == texts.size());
        List<String> delivered = new ArrayList<>();
        sink.accepted().forEach(reply -> delivered.add(reply.body().get("text").asText()));
        assertThat(delivered).containsExactlyElementsOf(texts.stream().map(text -> "echo: " + text).toList());
    }

    @Test
    void sessionsOfDifferentConversationsEachGetTheirOwnReplies() throws Exception {
        startGateway("");

        client.webhookMessage("a-1", "first", "dave", "one");
        client.webhookMessage("b-1", "second", "erin", "two");

        await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 2);
        assertThat(sink.accepted()).extracting(reply -> reply.body().get("conversation").asText())
                .containsExactlyInAnyOrder("first", "second");
        assertThat(client.rpc("sessions.list").body().at("/payload/sessions")).hasSize(2);
    }

    @Test
    void repeatedMessageIdIsAcknowledgedAsDuplicateAndAnsweredOnce() throws Exception {
        startGateway("");

        var first = client.webhookMessage("same", "room", "frank", "hi");
        var second = client.webhookMessage("same", "room", "frank", "hi");

        assertThat(first.status()).isEqualTo(202);
        assertThat(second.status()).isEqualTo(200);
        assertThat(second.body().get("duplicate").asBoolean()).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 1);
        JsonNode journal = client.rpc("status").body().at("/payload/journal");
        assertThat(journal.get("received").asInt()).isEqualTo(1);
        assertThat(journal.get("duplicates").asInt()).isEqualTo(1);
    }

    @Test
    void aRefusedReplyIsListedAsFailedAndTheConversationsNextReplyGoesOnWithoutAReset() throws Exception {
        startGateway("");
        sink.refuse("echo: to a gone chat", 400, "{\"error\":\"unknown chat\"}");

        client.webhookMessage("r-1", "room", "hana", "to a gone chat");
        await().atMost(Duration.ofSeconds(10)).until(() -> sink.requests().size() == 1);
        client.webhookMessage("r-2", "room", "hana", "still there?");

        await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 1);
        assertThat(sink.accepted().get(0).body().get("text").asText()).isEqualTo("echo: still there?");
        String refusedId = sink.requests().get(0).idempotencyKey();
        // Both marks are journaled just after the receiver answered.
        await().atMost(Duration.ofSeconds(5)).until(() -> client.rpc("status").body().at("/payload/outbox")
                .equals(Json.object().put("pending", 0).put("failed", 1)));
        JsonNode failed = client.rpc("replies.failed").body().at("/payload/replies");
        assertThat(failed).hasSize(1);
        assertThat(failed.get(0).get("replyId").asText()).isEqualTo(refusedId);
        assertThat(failed.get(0).get("sessionKey").asText()).isEqualTo("agent:main:webhook:default:room");
        assertThat(failed.get(0).get("channel").asText()).isEqualTo("webhook");
        assertThat(failed.get(0).get("conversation").asText()).isEqualTo("room");
        assertThat(failed.get(0).get("reason").asText()).isEqualTo("HTTP 400: {\"error\":\"unknown chat\"}");
        assertThat(failed.get(0).get("text").asText()).isEqualTo("echo: to a gone chat");
        assertThat(failed.get(0).get("failedAtEpochMs").asLong()).isPositive();
        assertThat(sink.requests()).extracting(ReplySink.Received::idempotencyKey).containsOnlyOnce(refusedId);
        assertThat(client.get("/metrics", null).raw())
                .contains("# HELP ferry_replies_failed_total Replies the platform refused for good")
                .contains("ferry_replies_failed_total 1.0");
    }

    @Test
    void repliesRetrySendsAFailedReplyAgainOnceTheReceiverAccepts() throws Exception {
        startGateway("");
        sink.refuse("echo: hello?", 404, "");
        client.webhookMessage("t-1", "room", "ivan", "hello?");
        await().atMost(Duration.ofSeconds(10)).until(() -> client.rpc("replies.failed").body().at("/payload/replies").size() == 1);
        String replyId = client.rpc("replies.failed").body().at("/payload/replies/0/replyId").asText();
        sink.stopRefusing();

        var retried = client.rpc("replies.retry", "{\"replyId\":\"" + replyId + "\"}");

        assertThat(retried.status()).isEqualTo(200);
        assertThat(retried.body().at("/payload/requeued").asBoolean()).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 1);
        assertThat(sink.accepted().get(0).idempotencyKey()).isEqualTo(replyId);
        assertThat(client.rpc("replies.failed").body().at("/payload/replies")).isEmpty();
        assertThat(client.rpc("status").body().at("/payload/outbox/failed").asInt()).isZero();
        var again = client.rpc("replies.retry", "{\"replyId\":\"" + replyId + "\"}");
        assertThat(again.status()).as("delivered now, so not failed").isEqualTo(404);
        assertThat(again.body().at("/error/message").asText()).contains(replyId);
    }

    @Test
    void repliesRetryNamesAMissingOrUnknownReplyIdAndChangesNothing() throws Exception {
        startGateway("");

        var unknown = client.rpc("replies.retry", "{\"replyId\":\"fr-nope-1\"}");
        var missing = client.rpc("replies.retry", "{}");
        var badLimit = client.rpc("replies.failed", "{\"limit\":0}");

        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.body().at("/error/code").asText()).isEqualTo("NOT_FOUND");
        assertThat(unknown.body().at("/error/message").asText())
                .isEqualTo("params.replyId: no failed reply \"fr-nope-1\" (see replies.failed)");
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.body().at("/error/message").asText()).isEqualTo("params.replyId: required (see replies.failed)");
        assertThat(badLimit.status()).isEqualTo(400);
        assertThat(badLimit.body().at("/error/message").asText()).isEqualTo("params.limit: must be a positive integer");
        assertThat(sink.requests()).isEmpty();
    }

    @Test
    void aFailedReplyIsNotSentAgainAfterARestart() throws Exception {
        startGateway("");
        sink.refuse("echo: first", 410, "gone");
        client.webhookMessage("k-1", "room", "jon", "first");
        await().atMost(Duration.ofSeconds(10)).until(() -> client.rpc("status").body().at("/payload/outbox/failed").asInt() == 1);
        String refusedId = sink.requests().get(0).idempotencyKey();
        sink.stopRefusing();

        gateway.close();
        startGateway("");
        client.webhookMessage("k-2", "room", "jon", "second");

        // A replayed failed reply would head the session's lane, so it would arrive before this one.
        await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 1);
        assertThat(sink.accepted().get(0).body().get("text").asText()).isEqualTo("echo: second");
        assertThat(sink.requests()).extracting(ReplySink.Received::idempotencyKey).containsOnlyOnce(refusedId);
        assertThat(client.rpc("replies.failed").body().at("/payload/replies/0/reason").asText()).isEqualTo("HTTP 410: gone");
        assertThat(client.rpc("status").body().at("/payload/outbox/failed").asInt()).isOne();
    }

    @Test
    void aSlowReceiverNeverHasMoreThanMaxConcurrentSendsInFlight() throws Exception {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger mostInFlight = new AtomicInteger();
        AtomicInteger answered = new AtomicInteger();
        Semaphore release = new Semaphore(0);
        ExecutorService handlers = Executors.newFixedThreadPool(12);
        HttpServer slow = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        slow.setExecutor(handlers);
        slow.createContext("/replies", exchange -> {
            exchange.getRequestBody().readAllBytes();
            mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            release.acquireUninterruptibly();
            inFlight.decrementAndGet();
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
            answered.incrementAndGet();
        });
        slow.start();
        try {
            gateway = Gateway.start(ConfigLoader.parse("{ gateway: { port: 0 }, state: { dir: '" + state + "' },"
                    + " channels: { webhook: { maxConcurrentSends: 3, replyUrl: 'http://127.0.0.1:"
                    + slow.getAddress().getPort() + "/replies' } } }", null));
            client = new GatewayClient(gateway.url(), null);

            for (int i = 0; i < 10; i++) {
                client.webhookMessage("s-" + i, "slow-" + i, "kim", "hi " + i);
            }
            // By the outbox's own count three sends hold the three slots while all ten wait to be delivered:
            // the other seven are in the channel's FIFO, and none can start until the receiver answers one.
            await().atMost(Duration.ofSeconds(10)).until(() -> inFlight.get() == 3
                    && client.rpc("status").body().at("/payload/outbox/pending").asInt() == 10
                    && sendsInFlight(client) == 3);
            assertThat(inFlight.get()).isEqualTo(3);
            release.release(10);

            await().atMost(Duration.ofSeconds(10)).until(() -> answered.get() == 10);
            assertThat(mostInFlight.get()).isEqualTo(3);
        } finally {
            release.release(100);
            slow.stop(0);
            handlers.shutdownNow();
        }
    }

    @Test
    void withoutAReplyUrlTheReplyStaysInTheSessionHistory() throws Exception {
        gateway = Gateway.start(ConfigLoader.parse("{ gateway: { port: 0 }, state: { dir: '" + state + "' } }", null));
        client = new GatewayClient(gateway.url(), null);

        client.webhookMessage("h-1", "notes", "gail", "remember this");

        String sessionKey = "agent:main:webhook:default:notes";
        await().atMost(Duration.ofSeconds(10)).until(() ->
                client.rpc("chat.history", "{\"sessionKey\":\"" + sessionKey + "\"}").body().at("/payload/exchanges").size() == 1);
        JsonNode exchange = client.rpc("chat.history", "{\"sessionKey\":\"" + sessionKey + "\"}").body().at("/payload/exchanges/0");
        assertThat(exchange.get("prompt").asText()).isEqualTo("remember this");
        assertThat(exchange.get("reply").asText()).isEqualTo("echo: remember this");
        assertThat(sink.requests()).isEmpty();
    }

    /** The outbox's own count of sends in flight, from the metrics endpoint. */
    private static int sendsInFlight(GatewayClient client) {
        return client.get("/metrics", null).raw().lines().filter(line -> line.startsWith("ferry_outbox_sending "))
                .mapToInt(line -> (int) Double.parseDouble(line.substring(line.indexOf(' ') + 1))).findFirst().orElse(-1);
    }
}
