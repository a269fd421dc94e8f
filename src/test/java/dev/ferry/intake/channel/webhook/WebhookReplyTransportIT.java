package dev.ferry.intake.channel.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

import dev.ferry.journal.Reply;

/** Against a real local HTTP receiver: what goes over the wire, and which answers count as delivered. */
class WebhookReplyTransportIT {

    private record Received(String method, String idempotencyKey, String contentType, byte[] body) {}

    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private volatile int answerStatus = 204;
    private HttpServer server;
    private WebhookReplyTransport transport;

    @BeforeEach
    void startReceiver() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/replies", exchange -> {
            received.add(new Received(exchange.getRequestMethod(),
                    exchange.getRequestHeaders().getFirst("Idempotency-Key"),
                    exchange.getRequestHeaders().getFirst("Content-Type"),
                    exchange.getRequestBody().readAllBytes()));
            exchange.sendResponseHeaders(answerStatus, -1);
            exchange.close();
        });
        server.start();
        URI replyUrl = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/replies");
        transport = new WebhookReplyTransport(HttpClient.newHttpClient(), replyUrl);
    }

    @AfterEach
    void stopReceiver() {
        server.stop(0);
    }

    @Test
    void postsTheReplyAsJsonWithItsIdAsIdempotencyKey() throws Exception {
        Reply reply = reply("fr-x-1");

        transport.send(reply).get(5, TimeUnit.SECONDS);

        Received request = received.poll(5, TimeUnit.SECONDS);
        assertThat(request).isNotNull();
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.idempotencyKey()).isEqualTo("fr-x-1");
        assertThat(request.contentType()).isEqualTo("application/json");
        assertThat(new ObjectMapper().readTree(request.body()))
                .isEqualTo(new ObjectMapper().readTree(WebhookReplyTransport.body(reply)));
    }

    @Test
    void aNon2xxAnswerIsAFailedSend() {
        answerStatus = 503;

        assertThatThrownBy(() -> transport.send(reply("fr-x-2")).get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(WebhookReplyTransport.ReplyRejectedException.class)
                .hasMessageContaining("503");
    }

    @Test
    void anUnreachableReceiverIsAFailedSend() {
        server.stop(0);

        assertThatThrownBy(() -> transport.send(reply("fr-x-3")).get(20, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class);
    }

    private static Reply reply(String replyId) {
        return new Reply(replyId, 1, "agent:main:webhook:default:c1", "webhook", "default", "c1", "alice", null,
                "echo: hi", List.of("m1"));
    }
}
