package dev.ferry.cli;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.time.MonotonicClock;

/**
 * A client of the gateway's WebSocket control protocol ({@code GET /ws}, SPEC 3.5) on the JDK's
 * {@link WebSocket}: requests go out with ids of its own, and what comes back (each whole frame, then the
 * end of the connection) is handed to the caller in arrival order by {@link #next}.
 *
 * <p>One per connection. The listener runs on the client's one thread and only assembles frames and adds
 * them to {@code inbox}; the caller's thread sends, waits and decides. A frame the server sends in parts
 * ({@code onText} with {@code last=false}) is handed on once, whole.
 */
final class WsRpcClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CLOSE_PATIENCE = Duration.ofSeconds(1);

    /** What the connection delivered: a frame, a frame that was not JSON, or its end. */
    sealed interface Incoming permits Frame, Unreadable, Closed {}

    /** One whole JSON frame. */
    record Frame(JsonNode json) implements Incoming {}

    /** A text frame that was not JSON; {@code error} says why. */
    record Unreadable(String error) implements Incoming {}

    /** The connection ended: by a close frame ({@code failure} null), or broke ({@code code} -1). */
    record Closed(int code, String reason, Throwable failure) implements Incoming {}

    private final URI base;
    private final ExecutorService callbacks;
    private final WebSocket socket;
    /** Written by the listener's thread, read by the caller's. */
    private final BlockingQueue<Incoming> inbox;
    /** Only touched by the caller's thread. */
    private long nextId = 1;

    private WsRpcClient(URI base, ExecutorService callbacks, WebSocket socket, BlockingQueue<Incoming> inbox) {
        this.base = base;
        this.callbacks = callbacks;
        this.socket = socket;
        this.inbox = inbox;
    }

    /** {@code ws://host:port/ws} of the gateway at {@code base} ({@code http://host:port}). */
    static URI wsUri(URI base) {
        return URI.create("ws://" + base.getRawAuthority() + "/ws");
    }

    /**
     * Opens {@code /ws} of the gateway at {@code base}, waiting at most {@code timeout}.
     *
     * @throws GatewayFailure when nothing listens there, the upgrade is refused, or it takes too long
     */
    static WsRpcClient open(URI base, Duration timeout) throws GatewayFailure, InterruptedException {
        ExecutorService callbacks = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "ferry-ws-client");
            thread.setDaemon(true);
            return thread;
        });
        BlockingQueue<Incoming> inbox = new LinkedBlockingQueue<>();
        HttpClient http = HttpClient.newBuilder().executor(callbacks).connectTimeout(timeout).build();
        CompletableFuture<WebSocket> opening = http.newWebSocketBuilder().connectTimeout(timeout)
                .buildAsync(wsUri(base), new Listener(inbox));
        try {
            WebSocket socket = opening.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return new WsRpcClient(base, callbacks, socket, inbox);
        } catch (ExecutionException e) {
            callbacks.shutdownNow();
            Throwable cause = e.getCause();
            if (cause instanceof WebSocketHandshakeException handshake) {
                throw new GatewayFailure(GatewayFailure.Kind.ERROR, "the gateway at " + base
                        + " refused the WebSocket upgrade of /ws: HTTP " + handshake.getResponse().statusCode());
            }
            throw GatewayFailure.unreachable(base, cause, timeout);
        } catch (TimeoutException e) {
            opening.cancel(true);
            callbacks.shutdownNow();
            throw new GatewayFailure(GatewayFailure.Kind.TIMEOUT,
                    "no gateway at " + base + ": no connection within " + GatewayFailure.seconds(timeout));
        } catch (InterruptedException e) {
            callbacks.shutdownNow();
            throw e;
        }
    }

    URI base() {
        return base;
    }

    /**
     * Sends the request {@code {"type":"req","id","method","params"}} and returns its id, which its response
     * will carry; waits at most {@code timeout} for the frame to be written.
     */
    String request(String method, JsonNode params, Duration timeout) throws GatewayFailure, InterruptedException {
        String id = Long.toString(nextId++);
        ObjectNode frame = JSON.createObjectNode().put("type", "req").put("id", id).put("method", method);
        if (params != null) {
            frame.set("params", params);
        }
        try {
            socket.sendText(frame.toString(), true).get(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new GatewayFailure(GatewayFailure.Kind.CLOSED, "the connection to the gateway at " + base
                    + " broke while sending " + method + ": " + cause.getClass().getSimpleName()
                    + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
        } catch (TimeoutException e) {
            throw GatewayFailure.timeout("could not send " + method, timeout);
        }
        return id;
    }

    /** The next thing the connection delivered, waiting until {@code deadlineNanos} on {@code clock}; null then. */
    Incoming next(long deadlineNanos, MonotonicClock clock) throws InterruptedException {
        return inbox.poll(deadlineNanos - clock.nanos(), TimeUnit.NANOSECONDS);
    }

    /** Closes with 1000, waiting a moment for the close to be written, then drops the connection. */
    @Override
    public void close() {
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(CLOSE_PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // Already closed by the gateway, or it did not take the close in time: dropping it is all that is left.
        } finally {
            socket.abort();
            callbacks.shutdownNow();
        }
    }

    /** On the client's one thread; holds the parts of the frame being received. */
    private static final class Listener implements WebSocket.Listener {
        private final BlockingQueue<Incoming> inbox;
        private final StringBuilder parts = new StringBuilder();

        Listener(BlockingQueue<Incoming> inbox) {
            this.inbox = inbox;
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            // data is only valid until this returns: it is copied here.
            parts.append(data);
            if (last) {
                String text = parts.toString();
                parts.setLength(0);
                try {
                    inbox.add(new Frame(JSON.readTree(text)));
                } catch (JsonProcessingException e) {
                    inbox.add(new Unreadable(e.getOriginalMessage()));
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            inbox.add(new Closed(statusCode, reason, null));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            inbox.add(new Closed(-1, null, error));
        }
    }
}
