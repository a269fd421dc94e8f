package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Flow;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayClient.Answer;
import dev.ferry.testing.RawHttp;

/**
 * Every malformed or unauthorised request gets its status and a JSON reason, changes nothing, and
 * leaves the gateway serving. Malformed includes what a lenient parser lets through (a lone surrogate,
 * trailing data, a key twice, a body that says it is not JSON), and requests no client library sends,
 * which go over raw sockets.
 */
class BadInputIT {

    private static final String GATEWAY_TOKEN = "gw-secret-token";
    private static final String WEBHOOK_TOKEN = "hook-secret-token";

    @TempDir
    Path state;

    private Gateway gateway;
    private GatewayClient client;

    @BeforeEach
    void start() throws Exception {
        String config = "{ gateway: { port: 0, auth: { token: '" + GATEWAY_TOKEN + "' } }, state: { dir: '" + state + "' },"
                + " channels: { webhook: { token: '" + WEBHOOK_TOKEN + "' } } }";
        gateway = Gateway.start(ConfigLoader.parse(config, null));
        client = new GatewayClient(gateway.url(), GATEWAY_TOKEN);
    }

    @AfterEach
    void stop() {
        gateway.close();
    }

    private Answer webhook(String body) {
        return client.postWebhook(body, WEBHOOK_TOKEN);
    }

    private void assertRefused(Answer answer, int status, String code) {
        assertThat(answer.status()).as(answer.raw()).isEqualTo(status);
        assertThat(answer.body()).as("JSON body of " + answer.raw()).isNotNull();
        assertThat(answer.body().at("/error/code").asText()).isEqualTo(code);
        assertThat(answer.body().at("/error/message").asText()).isNotBlank();
    }

    private void assertNothingJournaledAndStillServing() {
        JsonNode journal = client.rpc("status").body().at("/payload/journal");
        assertThat(journal.get("received").asInt()).isZero();
        assertThat(client.get("/healthz", null).status()).isEqualTo(200);
    }

    @Test
    void malformedJsonIsRefusedWith400() {
        assertRefused(webhook("{\"messageId\": \"1\", "), 400, "INVALID_JSON");
        assertRefused(webhook("not json at all"), 400, "INVALID_JSON");
        assertNothingJournaledAndStillServing();
    }

    @Test
    void missingFieldsAreEachNamedIn400() {
        Answer answer = webhook("{\"text\":\"hi\"}");

        assertRefused(answer, 400, "INVALID_REQUEST");
        assertThat(answer.body().at("/error/message").asText())
                .contains("messageId: required").contains("conversation: required").contains("sender: required");
        assertNothingJournaledAndStillServing();
    }

    @Test
    void wrongTypesAreRefusedWith400() {
        Answer answer = webhook("{\"messageId\":{},\"conversation\":[1],\"sender\":true,\"text\":42,\"media\":\"x\"}");

        assertRefused(answer, 400, "INVALID_REQUEST");
        assertThat(answer.body().at("/error/details")).hasSize(5);
        assertRefused(webhook("[1,2,3]"), 400, "INVALID_REQUEST");
        assertNothingJournaledAndStillServing();
    }

    @Test
    void bodyOverOneMebibyteIsRefusedWith413() {
        String text = "x".repeat(HttpApi.MAX_BODY_BYTES);
        String body = "{\"messageId\":\"big\",\"conversation\":\"c\",\"sender\":\"s\",\"text\":\"" + text + "\"}";

        // Repeated on one keep-alive client: the refused body is never read, so that connection must not be reused.
        for (int attempt = 0; attempt < 20; attempt++) {
            assertRefused(webhook(body), 413, "PAYLOAD_TOO_LARGE");
            assertNothingJournaledAndStillServing();
        }
    }

    @Test
    void chunkedBodyOverTheLimitIsRefusedWith413() {
        byte[] body = new byte[HttpApi.MAX_BODY_BYTES + 10];
        Arrays.fill(body, (byte) 'x');
        // A publisher of unknown length makes the client send chunked, with no Content-Length to check.
        HttpRequest.BodyPublisher unknownLength = new HttpRequest.BodyPublisher() {
            private final HttpRequest.BodyPublisher inner = HttpRequest.BodyPublishers.ofByteArray(body);

            @Override
            public long contentLength() {
                return -1;
            }

            @Override
            public void subscribe(Flow.Subscriber<? super java.nio.ByteBuffer> subscriber) {
                inner.subscribe(subscriber);
            }
        };
        Answer answer = client.send(client.request("/channels/webhook/inbound", WEBHOOK_TOKEN)
                .POST(unknownLength).build());

        assertRefused(answer, 413, "PAYLOAD_TOO_LARGE");
        assertNothingJournaledAndStillServing();
    }

    @Test
    void webhookWithoutTokenIs401AndWithWrongTokenIs401() {
        String body = "{\"messageId\":\"1\",\"conversation\":\"c\",\"sender\":\"s\",\"text\":\"hi\"}";

        assertRefused(client.postWebhook(body, null), 401, "UNAUTHORIZED");
        assertRefused(client.postWebhook(body, "wrong"), 401, "UNAUTHORIZED");
        assertRefused(client.postWebhook(body, GATEWAY_TOKEN), 401, "UNAUTHORIZED");
        assertNothingJournaledAndStillServing();
        assertThat(client.postWebhook(body, WEBHOOK_TOKEN).status()).isEqualTo(202);
    }

    @Test
    void rpcAndMetricsWithoutTheGatewayTokenAre401() {
        assertRefused(client.post("/rpc", "{\"method\":\"status\"}", null), 401, "UNAUTHORIZED");
        assertRefused(client.post("/rpc", "{\"method\":\"status\"}", "nope"), 401, "UNAUTHORIZED");
        assertThat(client.get("/metrics", null).status()).isEqualTo(401);
        assertThat(client.get("/metrics", GATEWAY_TOKEN).status()).isEqualTo(200);
        assertThat(client.get("/healthz", null).status()).isEqualTo(200);
    }

    @Test
    void malformedRpcRequestsAreRefusedWithTheirReason() {
        assertRefused(client.post("/rpc", "{nope", GATEWAY_TOKEN), 400, "INVALID_JSON");
        assertRefused(client.post("/rpc", "{\"params\":{}}", GATEWAY_TOKEN), 400, "INVALID_REQUEST");
        assertRefused(client.rpc("no.such.method"), 404, "UNKNOWN_METHOD");
        assertRefused(client.rpc("chat.history", "[1]"), 400, "INVALID_PARAMS");
        assertRefused(client.rpc("chat.history", "{}"), 400, "INVALID_PARAMS");
        assertNothingJournaledAndStillServing();
    }

    @Test
    void intakeEndpointsRefuseOtherMethodsWithJson405() {
        assertRefused(client.get("/channels/webhook/inbound", null), 405, "METHOD_NOT_ALLOWED");
        assertRefused(client.get("/bench/noop", null), 405, "METHOD_NOT_ALLOWED");
        assertNothingJournaledAndStillServing();
    }

    @Test
    void noopEndpointAnswers202AndJournalsNothing() {
        Answer answer = client.post("/bench/noop", "{\"messageId\":\"1\"}", null);

        assertThat(answer.status()).as(answer.raw()).isEqualTo(202);
        assertThat(answer.body().get("noop").asBoolean()).isTrue();
        assertThat(client.post("/bench/noop/", "{}", null).status()).as("a trailing slash is the same path").isEqualTo(202);
        assertNothingJournaledAndStillServing();
    }

    @Test
    void unknownPathIsJson404() {
        assertRefused(client.get("/nowhere", null), 404, "NOT_FOUND");
    }

    private Answer post(String path, byte[] body, String contentType, String bearer) {
        HttpRequest.Builder request = client.request(path, bearer).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return client.send(request.build());
    }

    private static String message(String messageId, String conversation, String text) {
        return "{\"messageId\":\"" + messageId + "\",\"conversation\":\"" + conversation + "\",\"sender\":\"s\",\"text\":\"" + text + "\"}";
    }

    @Test
    void loneSurrogateInAnIdIsRefusedOnEveryResendAndNeverStored() {
        for (int attempt = 0; attempt < 3; attempt++) {
            Answer answer = webhook(message("ls-\\udc00", "c", "hi"));

            assertRefused(answer, 400, "INVALID_JSON");
            assertThat(answer.body().at("/error/message").asText())
                    .isEqualTo("body: not valid Unicode at messageId: unpaired surrogate U+DC00");
        }
        assertRefused(webhook(message("m", "c-\\ud800", "hi")), 400, "INVALID_JSON");
        assertRefused(webhook(message("m", "c", "text \\udfff")), 400, "INVALID_JSON");
        assertNothingJournaledAndStillServing();
    }

    @Test
    void loneSurrogateInAnRpcIsRefusedNamingTheParamsPath() {
        Answer answer = client.rpc("chat.history", "{\"sessionKey\":\"agent:main:webhook:default:\\udc00\"}");

        assertRefused(answer, 400, "INVALID_JSON");
        assertThat(answer.body().at("/error/message").asText()).contains("at params.sessionKey");
        assertRefused(client.rpc("config.patch", "{\"raw\":{\"agent\":{\"systemPrompt\":\"\\ud800\"}},\"baseHash\":\"x\"}"),
                400, "INVALID_JSON");
        assertRefused(client.rpc("status", "{\"\\udc00\":1}"), 400, "INVALID_JSON");
        assertNothingJournaledAndStillServing();
    }

    @Test
    void invalidUtf8BytesAreRefusedInIntakeAndRpc() {
        byte[] hook = message("m1", "c", "hi X").getBytes(StandardCharsets.UTF_8);
        hook[hook.length - 3] = (byte) 0xC0;
        byte[] rpc = "{\"method\":\"chat.history\",\"params\":{\"sessionKey\":\"k X\"}}".getBytes(StandardCharsets.UTF_8);
        rpc[rpc.length - 4] = (byte) 0xFF;

        Answer hookAnswer = post("/channels/webhook/inbound", hook, "application/json", WEBHOOK_TOKEN);
        Answer rpcAnswer = post("/rpc", rpc, "application/json", GATEWAY_TOKEN);

        assertRefused(hookAnswer, 400, "INVALID_JSON");
        assertThat(hookAnswer.body().at("/error/message").asText()).startsWith("body: not valid JSON at text: Invalid UTF-8");
        assertRefused(rpcAnswer, 400, "INVALID_JSON");
        assertThat(rpcAnswer.body().at("/error/message").asText()).contains("at params.sessionKey");
        assertNothingJournaledAndStillServing();
    }

    @Test
    void dataAfterTheJsonValueIsRefusedInIntakeAndRpc() {
        String one = message("m1", "c", "hi");

        assertRefused(webhook(one + " junk"), 400, "INVALID_JSON");
        assertRefused(webhook(one + one), 400, "INVALID_JSON");
        assertRefused(client.post("/rpc", "{\"method\":\"status\"} {\"method\":\"gateway.reload\"}", GATEWAY_TOKEN),
                400, "INVALID_JSON");
        assertThat(webhook(one + "\n").status()).as("whitespace after the value is fine").isEqualTo(202);
        assertThat(client.rpc("status").body().at("/payload/journal/received").asInt()).isEqualTo(1);
        assertThat(client.rpc("status").body().at("/payload/generation").asInt()).as("no reload ran").isEqualTo(1);
    }

    @Test
    void duplicateKeysAreRefusedNamingTheKey() {
        Answer hook = webhook("{\"messageId\":\"m1\",\"conversation\":\"c\",\"conversation\":\"d\",\"sender\":\"s\",\"text\":\"hi\"}");
        Answer rpc = client.post("/rpc", "{\"method\":\"status\",\"method\":\"gateway.reload\"}", GATEWAY_TOKEN);

        assertRefused(hook, 400, "INVALID_JSON");
        assertThat(hook.body().at("/error/message").asText()).contains("Duplicate field 'conversation'");
        assertRefused(rpc, 400, "INVALID_JSON");
        assertThat(rpc.body().at("/error/message").asText()).contains("Duplicate field 'method'");
        assertThat(client.rpc("status").body().at("/payload/generation").asInt()).as("no reload ran").isEqualTo(1);
        assertNothingJournaledAndStillServing();
    }

    @Test
    void bodyDeclaredAsNotJsonIsRefusedWith415OnEveryBodyEndpoint() {
        byte[] body = message("m1", "c", "hi").getBytes(StandardCharsets.UTF_8);
        byte[] rpc = "{\"method\":\"gateway.reload\"}".getBytes(StandardCharsets.UTF_8);
        for (String type : List.of("text/plain", "application/x-www-form-urlencoded", "application/xml",
                "application/json; charset=iso-8859-1", "application/jsonx")) {
            assertRefused(post("/channels/webhook/inbound", body, type, WEBHOOK_TOKEN), 415, "UNSUPPORTED_MEDIA_TYPE");
            assertRefused(post("/rpc", rpc, type, GATEWAY_TOKEN), 415, "UNSUPPORTED_MEDIA_TYPE");
            assertRefused(post("/bench/noop", body, type, null), 415, "UNSUPPORTED_MEDIA_TYPE");
        }
        assertThat(post("/rpc", rpc, "text/plain", GATEWAY_TOKEN).body().at("/error/message").asText())
                .isEqualTo("Content-Type: text/plain is not JSON; send application/json");
        assertThat(client.rpc("status").body().at("/payload/generation").asInt()).as("no reload ran").isEqualTo(1);
        assertNothingJournaledAndStillServing();
    }

    @Test
    void anyJsonContentTypeAndAnAbsentOneAreRead() {
        assertThat(post("/channels/webhook/inbound", message("m1", "c", "hi").getBytes(StandardCharsets.UTF_8),
                "application/json; charset=UTF-8", WEBHOOK_TOKEN).status()).isEqualTo(202);
        assertThat(post("/channels/webhook/inbound", message("m2", "c", "hi").getBytes(StandardCharsets.UTF_8),
                "application/vnd.example+json", WEBHOOK_TOKEN).status()).isEqualTo(202);
        assertThat(post("/channels/webhook/inbound", message("m3", "c", "hi").getBytes(StandardCharsets.UTF_8),
                null, WEBHOOK_TOKEN).status()).isEqualTo(202);
        assertThat(post("/rpc", "{\"method\":\"health\"}".getBytes(StandardCharsets.UTF_8), null, GATEWAY_TOKEN).status())
                .isEqualTo(200);
    }

    @Test
    void idsMadeOnlyOfInvisibleCharactersAreRefused() {
        Answer answer = webhook(message("\\u200b\\u2060", "\\u3164", "hi"));

        assertRefused(answer, 400, "INVALID_REQUEST");
        assertThat(answer.body().at("/error/message").asText())
                .contains("messageId: must not be blank").contains("conversation: must not be blank");
        assertNothingJournaledAndStillServing();
    }

    @Test
    void errorsTheHttpServerMakesItselfAreJson() {
        String bigHeader = "X-Padding: " + "a".repeat(20_000) + "\r\n";
        List<String> requests = List.of(
                "POST /channels/webhook/inbound HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                "POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
                "GET /healthz HTTP/1.1\r\nHost: x\r\n" + bigHeader + "\r\n",
                "NOT A REQUEST LINE\r\n\r\n",
                "GET /healthz HTTP/1.1\r\n\r\n");
        List<Integer> statuses = new ArrayList<>();
        for (String request : requests) {
            RawHttp.Answer answer = RawHttp.exchange(gateway.url(), request);

            statuses.add(answer.status());
            assertThat(answer.header("Content-Type")).as(answer.headers()).startsWith("application/json");
            assertThat(answer.body()).as(answer.raw()).isNotNull();
            assertThat(answer.body().get("ok").asBoolean(true)).isFalse();
            assertThat(answer.body().at("/error/code").asText()).isNotBlank();
            assertThat(answer.body().at("/error/message").asText()).isNotBlank();
        }
        assertThat(statuses).containsExactly(400, 400, 431, 400, 400);
        assertNothingJournaledAndStillServing();
    }

    @Test
    void rpcAnswersOtherMethodsWithJson405() {
        assertRefused(client.get("/rpc", GATEWAY_TOKEN), 405, "METHOD_NOT_ALLOWED");
    }

    /**
     * Three hundred clients that open an RPC, and some that send their headers, and then dawdle: none of them holds a
     * thread, so a webhook send and a status call meanwhile answer as fast as ever. A GET that declares a
     * body it never sends is answered without waiting for it.
     */
    @Test
    void slowClientsHoldNoThreadSoIntakeAndStatusAnswerPromptly() throws Exception {
        String slowRpc = "POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + GATEWAY_TOKEN
                + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"method\":\"status\",\"params\":{\"pad\":\"";
        String slowHeaders = "POST /channels/webhook/inbound HTTP/1.1\r\nHost: x\r\nAuthoriz";
        String getWithBody = "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{";
        List<Socket> dawdlers = new ArrayList<>();
        List<Socket> getters = new ArrayList<>();
        try {
            // More slow RPCs than the HTTP server has threads (250), which is what stalled it.
            for (int i = 0; i < 340; i++) {
                Socket socket = RawHttp.connect(gateway.url());
                (i >= 320 ? getters : dawdlers).add(socket);
                String start = i >= 320 ? getWithBody : i >= 300 ? slowHeaders : slowRpc;
                socket.getOutputStream().write(start.getBytes(StandardCharsets.ISO_8859_1));
            }
            for (int round = 0; round < 5; round++) {
                // They trickle on, a byte each, as a client at one byte a second would.
                for (Socket socket : dawdlers) {
                    OutputStream out = socket.getOutputStream();
                    out.write('x');
                    out.flush();
                }
                Answer sent = client.send(client.request("/channels/webhook/inbound", WEBHOOK_TOKEN)
                        .timeout(Duration.ofSeconds(3)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(message("slow-" + round, "c", "hi"))).build());
                Answer status = client.send(client.request("/rpc", GATEWAY_TOKEN).timeout(Duration.ofSeconds(3))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"method\":\"status\"}")).build());

                assertThat(sent.status()).as(sent.raw()).isEqualTo(202);
                assertThat(status.status()).as(status.raw()).isEqualTo(200);
            }
            for (Socket socket : getters) {
                assertThat(RawHttp.read(socket.getInputStream()).status()).isEqualTo(200);
            }
        } finally {
            dawdlers.forEach(BadInputIT::closeQuietly);
            getters.forEach(BadInputIT::closeQuietly);
        }
        assertThat(client.rpc("status").body().at("/payload/journal/received").asInt()).isEqualTo(5);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing is all the test wants of it.
        }
    }

    @Test
    void noopEndpointIsNotServedOnANonLoopbackBind() throws Exception {
        String config = "{ gateway: { bind: '0.0.0.0', port: 0, auth: { token: '" + GATEWAY_TOKEN + "' } },"
                + " state: { dir: '" + state.resolve("open") + "' } }";
        try (Gateway open = Gateway.start(ConfigLoader.parse(config, null))) {
            GatewayClient openClient = new GatewayClient(java.net.URI.create("http://127.0.0.1:" + open.port()), GATEWAY_TOKEN);

            assertRefused(openClient.post("/bench/noop", "{}", null), 404, "NOT_FOUND");
            assertRefused(openClient.post("/bench/noop", "{}", GATEWAY_TOKEN), 404, "NOT_FOUND");
            assertThat(openClient.rpc("health").status()).isEqualTo(200);
        }
    }

    @Test
    void disabledWebhookPathIsAnswered404ChannelDisabledAfterTheMethodAndTypeChecks() throws Exception {
        String config = "{ gateway: { port: 0 }, state: { dir: '" + state.resolve("off") + "' },"
                + " channels: { webhook: { enabled: false } } }";
        try (Gateway off = Gateway.start(ConfigLoader.parse(config, null))) {
            GatewayClient offClient = new GatewayClient(off.url(), null);

            Answer disabled = offClient.postWebhook(message("1", "c", "hi"), null);
            assertRefused(disabled, 404, "CHANNEL_DISABLED");
            assertThat(disabled.body().at("/error/message").asText()).isEqualTo("the webhook channel is not enabled");
            assertThat(offClient.get("/channels/webhook/inbound", null).status()).isEqualTo(405);
        }
    }

    @Test
    void configGetNeverShowsASecret() {
        Answer answer = client.rpc("config.get");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.raw()).doesNotContain(GATEWAY_TOKEN).doesNotContain(WEBHOOK_TOKEN);
        assertThat(answer.body().at("/payload/config/gateway/auth/token").asText()).isEqualTo("<redacted>");
        assertThat(answer.body().at("/payload/hash").asText()).hasSize(64);
    }
}
