package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Flow;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayClient.Answer;

/**
 * Every malformed or unauthorised request gets its status and a JSON reason, changes nothing, and
 * leaves the gateway serving.
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
    void idsMadeOnlyOfInvisibleCharactersAreRefused() {
        Answer answer = webhook(message("\\u200b\\u2060", "\\u3164", "hi"));

        assertRefused(answer, 400, "INVALID_REQUEST");
        assertThat(answer.body().at("/error/message").asText())
                .contains("messageId: must not be blank").contains("conversation: must not be blank");
        assertNothingJournaledAndStillServing();
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
