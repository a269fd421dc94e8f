package dev.ferry.control.ws;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.config.Secret;
import dev.ferry.control.Json;
import dev.ferry.events.EventHub;
import dev.ferry.events.EventSubscription;
import dev.ferry.events.GatewayEvent;

/**
 * One WebSocket client (STYLE: one object per connection). It owns the connection's auth state, its
 * event subscription and its bounded send buffer, and nothing else touches them. Requests are answered
 * as their calls complete, so answers may come out of order; each carries its request's id. Events are
 * drained from the subscription on our executor, never on the publisher's thread. Thread-safe.
 */
final class ControlClient {

    static final int POLICY_VIOLATION = 1008;
    static final int GOING_AWAY = 1001;
    /** Characters of a close reason; ASCII in practice, so within RFC 6455's 123 bytes. */
    private static final int MAX_REASON = 120;
    /** How long a client that overflowed its buffer has to take the close frame before it is dropped. */
    private static final Duration OVERFLOW_GRACE = Duration.ofSeconds(2);
    /** Reload and shutdown events only, so a small buffer is far more than a client ever lags by. */
    private static final int EVENT_BUFFER = 64;

    private final ControlSocket socket;
    private final Outbound outbound;
    private final Executor executor;
    private final EventSubscription events;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    /** Set by a successful connect; read on every request. */
    private volatile boolean connected;

    ControlClient(ControlSocket socket, Outbound.Wire wire, ScheduledExecutorService executor, EventHub hub,
                  int maxFrames, long maxChars) {
        this.socket = socket;
        this.executor = executor;
        this.outbound = new Outbound(wire, executor,
                task -> executor.schedule(task, OVERFLOW_GRACE.toMillis(), TimeUnit.MILLISECONDS),
                maxFrames, maxChars, () -> closed.complete(null));
        this.events = hub.subscribe(EVENT_BUFFER,
                event -> event instanceof GatewayEvent.ReloadApplied || event instanceof GatewayEvent.ShuttingDown,
                this::scheduleDrain);
    }

    /** One text frame from the client, on Jetty's thread; it does not wait for the call it starts. */
    void onText(String text) {
        WsFrames.Request request = WsFrames.parse(text);
        if (!request.ok()) {
            outbound.send(WsFrames.error(request.id(), request.errorCode(), request.error()));
            return;
        }
        if ("connect".equals(request.method())) {
            connect(request);
            return;
        }
        if (!connected && socket.token().isPresent()) {
            outbound.send(WsFrames.error(request.id(), "UNAUTHORIZED",
                    "send {\"type\":\"req\",\"method\":\"connect\",\"params\":{\"auth\":{\"token\":...}}} first"));
            return;
        }
        JsonNode id = request.id();
        String method = request.method();
        socket.methods().call(method, request.params()).whenComplete((payload, failure) ->
                outbound.send(failure == null ? WsFrames.ok(id, payload) : WsFrames.failure(id, method, failure)));
    }

    void onBinary() {
        outbound.send(WsFrames.error(NullNode.getInstance(), "INVALID_FRAME",
                "frame: binary frames are not supported; send JSON text frames"));
    }

    /** {@code connect {auth:{token}}}: checks the token in constant time; a wrong one ends the connection. */
    private void connect(WsFrames.Request request) {
        JsonNode params = request.params();
        if (params != null && !params.isNull() && !params.isObject()) {
            outbound.send(WsFrames.error(request.id(), "INVALID_PARAMS", "params: must be an object"));
            return;
        }
        Secret expected = socket.token();
        if (expected.isPresent()) {
            JsonNode token = params == null ? null : params.path("auth").get("token");
            if (token == null || !token.isTextual() || !expected.matches(token.textValue())) {
                // Never says which token was expected, nor repeats the one given.
                outbound.send(WsFrames.error(request.id(), "UNAUTHORIZED",
                        token == null ? "params.auth.token: missing" : "params.auth.token: invalid"));
                outbound.closeAfterQueued(POLICY_VIOLATION, "unauthorized");
                return;
            }
        }
        connected = true;
        ObjectNode hello = Json.object()
                .put("server", "ferry")
                .put("version", socket.version())
                .put("generation", socket.generation());
        socket.methods().methods().forEach(hello.putArray("methods")::add);
        outbound.send(WsFrames.ok(request.id(), hello));
    }

    /** On the publisher's thread: only hands the drain to our executor, once per burst. */
    private void scheduleDrain() {
        if (drainScheduled.compareAndSet(false, true)) {
            executor.execute(this::drainEvents);
        }
    }

    private void drainEvents() {
        drainScheduled.set(false);
        for (GatewayEvent event : events.drain()) {
            if (event instanceof GatewayEvent.ReloadApplied reload) {
                outbound.send(WsFrames.event("reload", generation(reload.generation())));
            } else if (event instanceof GatewayEvent.ShuttingDown stop) {
                outbound.send(WsFrames.event("shutdown", generation(stop.generation())));
                outbound.closeAfterQueued(GOING_AWAY, "gateway stopping");
            }
        }
        String reason = events.closeReason();
        if (reason != null && !closed.isDone()) {
            // RFC 6455 caps a close reason at 123 bytes; a subscriber's failure may say more.
            String said = "events: " + reason;
            outbound.closeAfterQueued(POLICY_VIOLATION, said.length() <= MAX_REASON ? said : said.substring(0, MAX_REASON));
        }
    }

    private static ObjectNode generation(long generation) {
        ObjectNode payload = Json.object();
        payload.set("generation", LongNode.valueOf(generation));
        return payload;
    }

    /**
     * Sends what the subscription holds (the shutdown event among it), then closes with 1001. Runs on our
     * executor after any drain already scheduled, so the shutdown event is never overtaken by the close.
     */
    void goAway() {
        executor.execute(() -> {
            drainEvents();
            outbound.closeAfterQueued(GOING_AWAY, "gateway stopping");
        });
    }

    /** The connection ended (closed by either side, or failed): our subscription goes with it. */
    void ended() {
        events.close();
        closed.complete(null);
    }

    /** Completes when the connection has ended or our close frame was written. */
    CompletableFuture<Void> closed() {
        return closed;
    }
}
