package dev.ferry.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

/**
 * A real HTTP receiver for replies on an ephemeral loopback port. It records every request, and can be
 * told to answer the first N with 503, as a platform having a bad moment would, or to refuse the replies
 * with a given text, as a platform that does not know the chat would.
 */
public final class ReplySink implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request as the sink saw it; {@code status} is what the sink answered. */
    public record Received(String idempotencyKey, JsonNode body, int status) {}

    private record Refusal(String text, int status, byte[] body) {}

    private final HttpServer server;
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private volatile Refusal refusal;
    private final List<Received> requests = new ArrayList<>();

    public ReplySink() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/replies", exchange -> {
            JsonNode body = JSON.readTree(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            Refusal refusing = refusal;
            boolean refused = refusing != null && refusing.text().equals(body.path("text").asText());
            int status = refused ? refusing.status() : failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? 503 : 200;
            synchronized (requests) {
                requests.add(new Received(exchange.getRequestHeaders().getFirst("Idempotency-Key"), body, status));
                requests.notifyAll();
            }
            if (refused) {
                exchange.sendResponseHeaders(status, refusing.body().length);
                exchange.getResponseBody().write(refusing.body());
            } else {
                exchange.sendResponseHeaders(status, -1);
            }
            exchange.close();
        });
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/replies";
    }

    public void failNext(int count) {
        failuresLeft.set(count);
    }

    /** Answers {@code status} with {@code body} to every reply whose text is {@code text}, until {@link #stopRefusing}. */
    public void refuse(String text, int status, String body) {
        refusal = new Refusal(text, status, body.getBytes(StandardCharsets.UTF_8));
    }

    public void stopRefusing() {
        refusal = null;
    }

    /** Every request so far, in arrival order, whatever the sink answered. */
    public List<Received> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    /**
     * Waits until an accepted reply's text contains {@code text}, for at most {@code timeout}; says whether
     * one did. Woken by each request the sink records.
     */
    public boolean awaitAccepted(String text, java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (requests) {
            for (int seen = 0; ; ) {
                for (; seen < requests.size(); seen++) {
                    Received received = requests.get(seen);
                    if (received.status() / 100 == 2 && received.body().path("text").asText().contains(text)) {
                        return true;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(requests, left);
            }
        }
    }

    /** The requests the sink accepted with a 2xx: the replies that count as delivered. */
    public List<Received> accepted() {
        return requests().stream().filter(received -> received.status() / 100 == 2).toList();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
