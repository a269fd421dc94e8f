package dev.ferry.gateway;

import static dev.ferry.testing.WsClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.http.WebSocketHandshakeException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.WsClient;

/** {@code GET /ws} against a real gateway on an ephemeral port, with the JDK's WebSocket client. */
class WebSocketIT {

    @TempDir
    Path dir;

    private Gateway gateway;
    private final List<WsClient> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(WsClient::close);
        if (gateway != null) {
            gateway.close();
        }
    }

    private void start(String gatewayMore) throws Exception {
        gateway = Gateway.start(ConfigLoader.parse("{ gateway: { port: 0" + gatewayMore + " }, state: { dir: '"
                + dir.resolve("state") + "' } }", null));
    }

    private WsClient open() {
        return keep(WsClient.open(gateway.url()));
    }

    private WsClient keep(WsClient client) {
        clients.add(client);
        return client;
    }

    private static void assertError(JsonNode frame, String code, String messagePart) {
        assertThat(frame.path("type").asText()).isEqualTo("res");
        assertThat(frame.path("ok").asBoolean()).as("%s", frame).isFalse();
        assertThat(frame.path("error").path("code").asText()).as("%s", frame).isEqualTo(code);
        assertThat(frame.path("error").path("message").asText()).as("%s", frame).contains(messagePart);
    }

    @Test
    void aWrongTokenIsRefusedAndClosedThenTheRightOneIsAccepted() throws Exception {
        start(", auth: { token: 'sesame' }");

        WsClient wrong = open();
        assertError(wrong.call("c1", "connect", json("{'auth':{'token':'nope'}}")), "UNAUTHORIZED", "invalid");
        assertThat(wrong.closed().join()).isEqualTo(1008);

        // A token in the URL is not a token: the first request is still refused, naming connect.
        WsClient right = keep(WsClient.open(java.net.URI.create(gateway.url() + "/?token=sesame")));
        assertError(right.call("s0", "status", null), "UNAUTHORIZED", "connect");
        JsonNode hello = right.call("c2", "connect", json("{'auth':{'token':'sesame'}}"));
        assertThat(hello.path("ok").asBoolean()).as("%s", hello).isTrue();
        assertThat(hello.path("id").asText()).isEqualTo("c2");
        assertThat(hello.path("payload").path("generation").asLong()).isEqualTo(1);
        assertThat(hello.path("payload").path("version").asText()).isNotBlank();
        assertThat(hello.path("payload").path("methods").toString()).contains("\"status\"", "\"health\"",
                "\"gateway.reload\"");
        JsonNode status = right.call("s1", "status", null);
        assertThat(status.path("payload").path("generation").asLong()).isEqualTo(1);
    }

    @Test
    void withoutATokenConnectIsOptionalButAnswered() throws Exception {
        start("");
        WsClient client = open();
        assertThat(client.call("h", "health", null).path("ok").asBoolean()).isTrue();
        assertThat(client.call("c", "connect", null).path("payload").path("methods").isArray()).isTrue();
    }

    @Test
    void concurrentRequestsAreEachAnsweredUnderTheirOwnId() throws Exception {
        start("");
        WsClient client = open();
        List<CompletableFuture<JsonNode>> answers = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            answers.add(client.request("r" + i, i % 2 == 0 ? "status" : "health", null));
        }
        for (int i = 0; i < 50; i++) {
            JsonNode answer = answers.get(i).join();
            assertThat(answer.path("id").asText()).isEqualTo("r" + i);
            assertThat(answer.path("ok").asBoolean()).isTrue();
            // status alone reports sessions, so each answer is its own request's.
            assertThat(answer.path("payload").has("sessions")).isEqualTo(i % 2 == 0);
        }
    }

    @Test
    void eachMalformedFrameIsAnsweredAndTheConnectionStaysUsable() throws Exception {
        start("");
        WsClient client = open();

        client.sendText("not json");
        JsonNode notJson = client.next();
        assertError(notJson, "INVALID_JSON", "frame: not valid JSON");
        assertThat(notJson.get("id").isNull()).isTrue();

        client.sendText("[1, 2]");
        assertError(client.next(), "INVALID_FRAME", "must be a JSON object");
        client.sendText("{\"type\":\"req\",\"method\":\"status\"}");
        assertError(client.next(), "INVALID_FRAME", "id:");
        client.sendText("{\"type\":\"req\",\"id\":\"  \",\"method\":\"status\"}");
        JsonNode blankId = client.next();
        assertError(blankId, "INVALID_FRAME", "id:");
        assertThat(blankId.get("id").isNull()).isTrue();
        client.sendBinary(new byte[] {1, 2, 3});
        assertError(client.next(), "INVALID_FRAME", "binary");

        assertError(client.sendFor("a", "{\"type\":\"nope\",\"id\":\"a\",\"method\":\"status\"}"), "INVALID_FRAME", "type:");
        assertError(client.sendFor("m", "{\"type\":\"req\",\"id\":\"m\"}"), "INVALID_FRAME", "method:");
        assertError(client.call("u", "no.such", null), "UNKNOWN_METHOD", "no.such");
        assertError(client.sendFor("p", "{\"type\":\"req\",\"id\":\"p\",\"method\":\"status\",\"params\":[1]}"),
                "INVALID_PARAMS", "params: must be an object");

        JsonNode still = client.call("ok", "status", null);
        assertThat(still.path("ok").asBoolean()).as("%s", still).isTrue();
    }

    @Test
    void aFrameOverOneMebibyteClosesTheConnectionWith1009() throws Exception {
        start("");
        WsClient client = open();
        client.sendText("{\"type\":\"req\",\"id\":\"big\",\"method\":\"status\",\"params\":{\"pad\":\""
                + "x".repeat(1 << 20) + "\"}}");
        assertThat(client.closed().join()).isEqualTo(1009);
        // The gateway serves on: a new connection is answered.
        assertThat(open().call("h", "health", null).path("ok").asBoolean()).isTrue();
    }

    @Test
    void aForeignOriginIsRefusedBeforeTheUpgradeAndOwnAndAllowedOnesAreAccepted() throws Exception {
        start(", allowedOrigins: ['https://app.example']");
        assertThatThrownBy(() -> WsClient.tryOpen(gateway.url(), "https://evil.example").join())
                .isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(WebSocketHandshakeException.class)
                .satisfies(e -> assertThat(((WebSocketHandshakeException) e).getResponse().statusCode()).isEqualTo(403));
        for (String origin : List.of("https://app.example", "http://127.0.0.1:" + gateway.port(),
                "http://localhost:" + gateway.port())) {
            WsClient client = keep(WsClient.open(gateway.url(), origin, true));
            assertThat(client.call("h", "health", null).path("ok").asBoolean()).as(origin).isTrue();
        }
    }

    @Test
    void aReloadEmitsReloadWithTheNewGenerationAndTheConnectionSurvives() throws Exception {
        start("");
        WsClient client = open();
        client.call("c", "connect", null);
        JsonNode reloaded = client.call("r", "gateway.reload", null);
        assertThat(reloaded.path("ok").asBoolean()).as("%s", reloaded).isTrue();
        JsonNode event = client.next();
        assertThat(event.path("type").asText()).isEqualTo("event");
        assertThat(event.path("event").asText()).isEqualTo("reload");
        assertThat(event.path("payload").path("generation").asLong()).isEqualTo(2);
        assertThat(client.call("s", "status", null).path("payload").path("generation").asLong()).isEqualTo(2);
    }

    @Test
    void aStopSendsShutdownThenClosesWith1001() throws Exception {
        start("");
        WsClient client = open();
        client.call("c", "connect", null);
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(gateway::stopGracefully);
        JsonNode event = client.next();
        assertThat(event.path("event").asText()).isEqualTo("shutdown");
        assertThat(event.path("payload").path("generation").asLong()).isEqualTo(1);
        assertThat(client.closed().join()).isEqualTo(1001);
        stopping.get(WsClient.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Test
    void aClientThatNeverReadsDoesNotDelayAnotherClientsAnswers() throws Exception {
        start("");
        WsClient stalled = keep(WsClient.open(gateway.url(), null, false));
        WsClient lively = open();
        // Far more answers than a socket buffer holds: the stalled client's own buffer fills, then overflows.
        for (int i = 0; i < 10_000; i++) {
            stalled.sendText("{\"type\":\"req\",\"id\":\"s" + i + "\",\"method\":\"config.get\"}");
        }
        List<CompletableFuture<JsonNode>> answers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            answers.add(lively.request("l" + i, "status", null));
        }
        CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        assertThat(answers).allSatisfy(answer -> assertThat(answer.join().path("ok").asBoolean()).isTrue());
        // The stalled client overflows its own buffer and is dropped; the lively one stays.
        await().atMost(WsClient.PATIENCE).until(() -> gateway.webSocketConnections() == 1);
        assertThat(lively.call("after", "health", null).path("ok").asBoolean()).isTrue();
    }
}
