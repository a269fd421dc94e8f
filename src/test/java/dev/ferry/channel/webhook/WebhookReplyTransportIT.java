package dev.ferry.channel.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

import dev.ferry.delivery.SendOutcome;
import dev.ferry.delivery.SendOutcome.Verdict;
import dev.ferry.journal.Reply;

/** Against a real local HTTP receiver: what goes over the wire, and what each answer means for the reply. */
class WebhookReplyTransportIT {

    private record Received(String method, String idempotencyKey, String contentType, byte[] body) {}

    /** What the receiver answers: a status, an optional Retry-After, a body; {@code endless} never ends the body. */
    private record Answer(int status, String retryAfter, String body, boolean endless) {}

    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final ExecutorService handlers = Executors.newFixedThreadPool(2);
    private volatile Answer answer = new Answer(204, null, "", false);
    private HttpServer server;
    private URI replyUrl;
    private WebhookReplyTransport transport;

    @BeforeEach
    void startReceiver() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(handlers);
        server.createContext("/replies", exchange -> {
            received.add(new Received(exchange.getRequestMethod(),
                    exchange.getRequestHeaders().getFirst("Idempotency-Key"),
                    exchange.getRequestHeaders().getFirst("Content-Type"),
                    exchange.getRequestBody().readAllBytes()));
            Answer given = answer;
            if (given.retryAfter() != null) {
                exchange.getResponseHeaders().add("Retry-After", given.retryAfter());
            }
            byte[] body = given.body().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(given.status(), given.endless() ? 0 : body.length == 0 ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
                if (given.endless()) {
                    out.flush();
                    stopped.await();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
        replyUrl = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/replies?token=hook-secret-1");
        transport = new WebhookReplyTransport(HttpClient.newHttpClient(), replyUrl);
    }

    @AfterEach
    void stopReceiver() {
        stopped.countDown();
        server.stop(0);
        handlers.shutdownNow();
    }

    @Test
    void postsTheReplyAsJsonWithItsIdAsIdempotencyKey() throws Exception {
        Reply reply = reply("fr-x-1");

        assertThat(send(reply)).isEqualTo(SendOutcome.DELIVERED);

        Received request = received.poll(5, TimeUnit.SECONDS);
        assertThat(request).isNotNull();
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.idempotencyKey()).isEqualTo("fr-x-1");
        assertThat(request.contentType()).isEqualTo("application/json");
        assertThat(new ObjectMapper().readTree(request.body()))
                .isEqualTo(new ObjectMapper().readTree(WebhookReplyTransport.body(reply)));
    }

    @Test
    void aClientErrorIsARefusalForGoodWithTheStatusAndTheStartOfTheBody() throws Exception {
        for (int status : new int[] {400, 403, 404, 410, 422}) {
            answer = new Answer(status, null, "{\"error\":\"unknown chat\"}\n", false);

            assertThat(send(reply("fr-x-" + status))).as("HTTP %d", status)
                    .isEqualTo(SendOutcome.refused("HTTP " + status + ": {\"error\":\"unknown chat\"}"));
        }
    }

    @Test
    void timeoutsThrottlingAndServerErrorsAreRetried() throws Exception {
        for (int status : new int[] {408, 429, 500, 502, 503, 302}) {
            answer = new Answer(status, null, "", false);

            assertThat(send(reply("fr-x-" + status))).as("HTTP %d", status)
                    .isEqualTo(SendOutcome.retry("HTTP " + status, null));
        }
    }

    @Test
    void retryAfterInSecondsOnThrottlingAndUnavailableIsTheWait() throws Exception {
        answer = new Answer(429, "7", "slow down", false);
        assertThat(send(reply("fr-x-a"))).isEqualTo(SendOutcome.retry("HTTP 429: slow down", Duration.ofSeconds(7)));

        answer = new Answer(503, " 120 ", "", false);
        assertThat(send(reply("fr-x-b")).retryAfter()).isEqualTo(Duration.ofSeconds(120));

        answer = new Answer(503, "Wed, 21 Oct 2015 07:28:00 GMT", "", false);
        assertThat(send(reply("fr-x-c")).retryAfter()).as("a date falls back to the backoff").isNull();

        answer = new Answer(500, "7", "", false);
        assertThat(send(reply("fr-x-d")).retryAfter()).isNull();
    }

    @Test
    void theReasonIsOneShortLine() throws Exception {
        answer = new Answer(400, null, "bad\r\n\trequest:  " + "x".repeat(5_000), false);

        SendOutcome outcome = send(reply("fr-x-5"));

        assertThat(outcome.verdict()).isEqualTo(Verdict.REFUSED);
        assertThat(outcome.reason()).startsWith("HTTP 400: bad request: xxx").endsWith("…")
                .hasSize("HTTP 400: ".length() + WebhookReplyTransport.REASON_BODY_CHARS);
    }

    @Test
    void theReasonMasksTheUrlsCredentialsWhenTheReceiverEchoesThem() throws Exception {
        replyUrl = URI.create("http://hook-user:pass-word-9@127.0.0.1:" + server.getAddress().getPort()
                + "/replies?v=2&token=hook%2Fsecret-1");
        transport = new WebhookReplyTransport(HttpClient.newHttpClient(), replyUrl);
        answer = new Answer(401, null, "denied " + replyUrl + " token hook/secret-1", false);

        String reason = send(reply("fr-x-6")).reason();

        assertThat(reason).doesNotContain("secret-1").doesNotContain("pass-word-9")
                .contains("?v=2&token=<redacted>").endsWith("token <redacted>");
    }

    @Test
    void aRefusalWhoseBodyNeverEndsIsSettledFromItsFirstBytes() throws Exception {
        answer = new Answer(400, null, "no such chat " + "y".repeat(WebhookReplyTransport.REASON_BODY_BYTES), true);

        SendOutcome outcome = send(reply("fr-x-7"));

        assertThat(outcome.verdict()).isEqualTo(Verdict.REFUSED);
        assertThat(outcome.reason()).startsWith("HTTP 400: no such chat yyy");
    }

    @Test
    void anUnreachableReceiverIsAFaultWithoutVerdict() {
        server.stop(0);

        assertThatThrownBy(() -> transport.send(reply("fr-x-3")).get(20, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class);
    }

    private SendOutcome send(Reply reply) throws Exception {
        return transport.send(reply).get(5, TimeUnit.SECONDS);
    }

    private static Reply reply(String replyId) {
        return new Reply(replyId, 1, "agent:main:webhook:default:c1", "webhook", "default", "c1", "alice", null,
                "echo: hi", List.of("m1"));
    }
}
