package dev.ferry.control.ws;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.channel.ChannelCatalog;
import dev.ferry.config.Secret;
import dev.ferry.control.Json;
import dev.ferry.events.EventHub;
import dev.ferry.events.EventSubscription;
import dev.ferry.events.GatewayEvent;

/**
 * One WebSocket client (STYLE: one object per connection). It owns the connection's auth state, the
 * conversations it follows, its event subscription and its bounded send buffer, and nothing else touches
 * them. Requests are answered as their calls complete, so answers may come out of order; each carries
 * its request's id. A client follows the conversations it sends to or reads the history of, and any it
 * names on connect, or all of them; events are drained from the subscription on our executor, never on
 * the publisher's thread. Thread-safe.
 */
final class ControlClient {

    static final int POLICY_VIOLATION = 1008;
    static final int GOING_AWAY = 1001;
    /** Characters of a close reason; ASCII in practice, so within RFC 6455's 123 bytes. */
    private static final int MAX_REASON = 120;
    /** How long a client that overflowed its buffer has to take the close frame before it is dropped. */
    private static final Duration OVERFLOW_GRACE = Duration.ofSeconds(2);
    /**
     * Events a client may lag by before its oldest deltas go; a reply or a queue change is never dropped
     * for a slow reader, which is closed instead when only those fill the buffer.
     */
    private static final int EVENT_BUFFER = 1024;

    private final ControlSocket socket;
    private final Outbound.Wire wire;
    private final Outbound outbound;
    private final Executor executor;
    private final EventSubscription events;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    /** Pings sent since the peer last showed it is there (a pong or a frame). */
    private final AtomicInteger unansweredPings = new AtomicInteger();
    /** {@link Follows#key} of each conversation followed; read on the publisher's thread. */
    private final Set<String> followed = ConcurrentHashMap.newKeySet();
    /** The token a successful connect presented; null until then. Read on every request and reload. */
    private volatile Secret authorizedBy;
    /** Whether this client follows every conversation (a control client asked to). */
    private volatile boolean followsAll;
    /** Whether this client asked for {@code status} events. */
    private volatile boolean wantsStatus;
    /** The channel of its chat.send and chat.history when they name none: a browser page is the web chat. */
    private volatile String channel;

    ControlClient(ControlSocket socket, Outbound.Wire wire, ScheduledExecutorService executor, EventHub hub,
                  boolean fromBrowser, int maxFrames, long maxChars) {
        this.socket = socket;
        this.wire = wire;
        this.executor = executor;
        this.channel = fromBrowser ? ChannelCatalog.WEBCHAT : ChannelCatalog.CONTROL;
        this.outbound = new Outbound(wire, executor,
                task -> executor.schedule(task, OVERFLOW_GRACE.toMillis(), TimeUnit.MILLISECONDS),
                maxFrames, maxChars, () -> closed.complete(null));
        this.events = hub.subscribe(EVENT_BUFFER, this::wants, this::scheduleDrain);
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
        if (authorizedBy == null && socket.token().isPresent()) {
            outbound.send(WsFrames.error(request.id(), "UNAUTHORIZED",
                    "send {\"type\":\"req\",\"method\":\"connect\",\"params\":{\"auth\":{\"token\":...}}} first"));
            return;
        }
        JsonNode id = request.id();
        String method = request.method();
        JsonNode params = request.params();
        if (Follows.isChat(method) && params != null && params.isObject()) {
            params = withChannel((ObjectNode) params);
        }
        socket.methods().call(method, params).whenComplete((payload, failure) ->
                outbound.send(failure == null ? WsFrames.ok(id, payload) : WsFrames.failure(id, method, failure)));
    }

    /**
     * A chat call names its channel (this client's, unless it chose), and its conversation is followed
     * from before the call, so no event of the reply it causes or the history it reads can slip past.
     */
    private ObjectNode withChannel(ObjectNode params) {
        ObjectNode given = params.deepCopy();
        if (!given.hasNonNull("channel")) {
            given.put("channel", channel);
        }
        JsonNode conversation = given.get("conversation");
        JsonNode named = given.get("channel");
        if (conversation != null && conversation.isTextual() && named.isTextual()) {
            followed.add(Follows.key(named.textValue(), conversation.textValue().trim()));
        }
        return given;
    }

    void onBinary() {
        outbound.send(WsFrames.error(NullNode.getInstance(), "INVALID_FRAME",
                "frame: binary frames are not supported; send JSON text frames"));
    }

    /**
     * {@code connect {auth:{token}, channel?, subscribe?:{conversations, all, status}}}: checks the token in
     * constant time (a wrong one ends the connection), then takes what the client follows.
     */
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
        Follows follows;
        try {
            follows = Follows.read(params, channel);
        } catch (IllegalArgumentException e) {
            outbound.send(WsFrames.error(request.id(), "INVALID_PARAMS", e.getMessage()));
            return;
        }
        channel = follows.channel();
        followed.addAll(follows.keys());
        followsAll = follows.all();
        wantsStatus = follows.status();
        authorizedBy = expected;
        ObjectNode hello = Json.object()
                .put("server", "ferry")
                .put("version", socket.version())
                .put("generation", socket.generation())
                .put("channel", channel);
        socket.methods().methods().forEach(hello.putArray("methods")::add);
        outbound.send(WsFrames.ok(request.id(), hello));
    }

    /** On the publisher's thread, so it only looks: the gateway's own events, and those it follows. */
    private boolean wants(GatewayEvent event) {
        if (event.sessionKey() == null) {
            return !(event instanceof GatewayEvent.EventsLost);
        }
        if (followsAll) {
            return Follows.carriesChat(event);
        }
        String key = Follows.keyOf(event);
        return key != null && followed.contains(key);
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
                outbound.send(WsFrames.event("reload", Json.object().put("generation", reload.generation())));
                Secret now = socket.token();
                if (now.isPresent() && !now.equals(authorizedBy)) {
                    // The token this client showed (or did not need) no longer opens the gateway.
                    outbound.closeAfterQueued(POLICY_VIOLATION, "the gateway token changed; connect again");
                }
            } else if (event instanceof GatewayEvent.ShuttingDown stop) {
                outbound.send(WsFrames.event("shutdown", Json.object().put("generation", stop.generation())));
                outbound.closeAfterQueued(GOING_AWAY, "gateway stopping");
            } else if (ChatFrames.mayBeLost(event)) {
                ChatFrames.of(event).ifPresent(outbound::offer);
            } else {
                ChatFrames.of(event).ifPresent(outbound::send);
            }
        }
        String reason = events.closeReason();
        if (reason != null && !closed.isDone()) {
            // RFC 6455 caps a close reason at 123 bytes; a subscriber's failure may say more.
            String said = "events: " + reason;
            outbound.closeAfterQueued(POLICY_VIOLATION, said.length() <= MAX_REASON ? said : said.substring(0, MAX_REASON));
        }
    }

    /** A {@code status} event, for a client that asked for them. */
    void status(JsonNode payload) {
        if (wantsStatus) {
            outbound.send(WsFrames.event("status", payload));
        }
    }

    /** The peer showed it is there: a pong or a frame. */
    void heard() {
        unansweredPings.set(0);
    }

    /**
     * The ping round: pings the peer, or, when it answered none of the last {@code maxUnanswered},
     * drops the connection and answers false.
     */
    boolean ping(int maxUnanswered) {
        if (unansweredPings.getAndIncrement() >= maxUnanswered) {
            wire.disconnect();
            return false;
        }
        outbound.ping();
        return true;
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

    /** The connection ended (closed by either side, failed, or dropped): our subscription goes with it. */
    void ended() {
        events.close();
        closed.complete(null);
    }

    /** Completes when the connection has ended or our close frame was written. */
    CompletableFuture<Void> closed() {
        return closed;
    }
}
