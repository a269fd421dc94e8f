package dev.ferry.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A WebSocket client of the control protocol, on the JDK's {@link WebSocket}: responses are matched to
 * their requests by id, everything else (events, id-less errors) arrives in order on {@link #next}.
 * A client made with {@code reading = false} never asks for a message, as a stalled client would.
 */
public final class WsClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** One executor for every client's callbacks, so no test starts a thread per completion. */
    private static final ExecutorService CALLBACKS = Executors.newFixedThreadPool(2, task -> {
        Thread thread = new Thread(task, "test-ws-client");
        thread.setDaemon(true);
        return thread;
    });
    private static final HttpClient HTTP = HttpClient.newBuilder().executor(CALLBACKS).build();
    public static final Duration PATIENCE = Duration.ofSeconds(20);

    private final WebSocket socket;
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final BlockingQueue<JsonNode> unmatched = new LinkedBlockingQueue<>();
    /** The close code the server sent, or -1 when the connection failed without one. */
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();

    private WsClient(WebSocket.Builder builder, URI uri, boolean reading) {
        Listener listener = new Listener(reading);
        this.socket = builder.buildAsync(uri, listener).orTimeout(PATIENCE.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    /** Opens {@code /ws} of the gateway at {@code base}, with an Origin header when {@code origin} is not null. */
    public static WsClient open(URI base, String origin, boolean reading) {
        return new WsClient(builder(origin), wsUri(base), reading);
    }

    public static WsClient open(URI base) {
        return open(base, null, true);
    }

    /** Tries an upgrade and hands back how it ended: the client, or the failure. */
    public static CompletableFuture<WebSocket> tryOpen(URI base, String origin) {
        return builder(origin).buildAsync(wsUri(base), new WebSocket.Listener() {});
    }

    public static URI wsUri(URI base) {
        return URI.create("ws://" + base.getAuthority() + "/ws");
    }

    private static WebSocket.Builder builder(String origin) {
        WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(PATIENCE);
        return origin == null ? builder : builder.header("Origin", origin);
    }

    /** Sends a request; the future completes with its response. */
    public CompletableFuture<JsonNode> request(String id, String method, JsonNode params) {
        ObjectNode frame = JSON.createObjectNode().put("type", "req").put("id", id).put("method", method);
        if (params != null) {
            frame.set("params", params);
        }
        CompletableFuture<JsonNode> response = new CompletableFuture<>();
        pending.put(id, response);
        sendText(frame.toString());
        return response.orTimeout(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Sends a request and waits for its response. */
    public JsonNode call(String id, String method, JsonNode params) {
        return request(id, method, params).join();
    }

    /** Sends a frame written by hand whose response will carry {@code id}; waits for that response. */
    public JsonNode sendFor(String id, String text) {
        CompletableFuture<JsonNode> response = new CompletableFuture<>();
        pending.put(id, response);
        sendText(text);
        return response.orTimeout(PATIENCE.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    public void sendText(String text) {
        socket.sendText(text, true).orTimeout(PATIENCE.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    public void sendBinary(byte[] bytes) {
        socket.sendBinary(ByteBuffer.wrap(bytes), true).orTimeout(PATIENCE.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    /** The next frame no request is waiting for (an event, or an error without an id); fails after the patience. */
    public JsonNode next() throws InterruptedException {
        JsonNode frame = unmatched.poll(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        if (frame == null) {
            throw new AssertionError("no frame within " + PATIENCE);
        }
        return frame;
    }

    /** The next event named {@code event}, passing over every other unmatched frame; fails after the patience. */
    public JsonNode nextEvent(String event) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (true) {
            JsonNode frame = unmatched.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (frame == null) {
                throw new AssertionError("no '" + event + "' event within " + PATIENCE);
            }
            if ("event".equals(frame.path("type").asText()) && event.equals(frame.path("event").asText())) {
                return frame.path("payload");
            }
        }
    }

    /** Unmatched frames already here, without waiting. */
    public List<JsonNode> drainUnmatched() {
        List<JsonNode> frames = new ArrayList<>();
        unmatched.drainTo(frames);
        return frames;
    }

    public CompletableFuture<Integer> closed() {
        return closed.orTimeout(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Test input written with single quotes, for readability. */
    public static JsonNode json(String text) {
        return parse(text.replace('\'', '"'));
    }

    private static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(text, e);
        }
    }

    @Override
    public void close() {
        socket.abort();
    }

    private final class Listener implements WebSocket.Listener {
        private final boolean reading;
        private final StringBuilder parts = new StringBuilder();

        Listener(boolean reading) {
            this.reading = reading;
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            if (reading) {
                webSocket.request(1);
            }
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            parts.append(data);
            if (last) {
                JsonNode frame = parse(parts.toString());
                parts.setLength(0);
                String id = frame.path("id").isTextual() ? frame.get("id").asText() : null;
                CompletableFuture<JsonNode> waiting = id == null ? null : pending.remove(id);
                if (waiting != null && "res".equals(frame.path("type").asText())) {
                    waiting.complete(frame);
                } else {
                    unmatched.add(frame);
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete(-1);
        }
    }
}
