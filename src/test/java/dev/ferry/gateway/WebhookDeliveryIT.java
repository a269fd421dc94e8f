package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

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
        // gives each its own turn and reply.
        startGateway("agent: { echo: { delayMs: 5 } }, messages: { queue: { mode: 'followup', debounceMs: 0 } }");
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
}
