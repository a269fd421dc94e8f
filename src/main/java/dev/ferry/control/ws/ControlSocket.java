package dev.ferry.control.ws;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.config.Secret;
import dev.ferry.control.RpcMethods;
import dev.ferry.events.EventHub;

/**
 * {@code GET /ws}: the WebSocket control protocol of SPEC 3.5 over the one table of RPC methods that
 * {@code POST /rpc} serves. It keeps one {@link ControlClient} per connection and one named thread on
 * which every client's events are drained, its next frame sent and its ping timed, so no publisher and no
 * Jetty thread ever waits for a client. Served on Jetty's own WebSocket API rather than Javalin's, which
 * hides pongs: a connection that answers no ping is dead however open its socket looks, and is dropped.
 * One per gateway, across listeners; thread-safe.
 */
public final class ControlSocket implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlSocket.class);

    public static final String PATH = "/ws";
    /** No frame over this is read (SPEC 3.5: the same cap as an HTTP body); Jetty closes with 1009. */
    public static final int MAX_FRAME_BYTES = 1 << 20;
    /** Server pings at this period keep an idle connection's path open and show the peer is there. */
    public static final Duration PING_EVERY = Duration.ofSeconds(15);
    /** A connection that answered none of this many pings in a row is dead, and is dropped. */
    static final int MAX_UNANSWERED_PINGS = 2;
    /** A connection with nothing read or written for this long is closed by Jetty (one that is not yet pinged). */
    public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);
    /** Frames a client may fall behind by; a client that stops reading is closed rather than buffered. */
    private static final int MAX_QUEUED_FRAMES = 1024;
    private static final long MAX_QUEUED_CHARS = 8L * MAX_FRAME_BYTES;
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final RpcMethods methods;
    private final Supplier<Secret> token;
    private final LongSupplier generation;
    private final String version;
    private final EventHub hub;
    private final Duration pingEvery;
    /**
     * One thread, so each client's drains and sends run in the order they were asked for (a shutdown
     * event before its close). Its tasks never block: a write is asynchronous.
     */
    private final ScheduledThreadPoolExecutor executor;
    private final Set<ControlClient> clients = ConcurrentHashMap.newKeySet();
    private final StatusFeed statusFeed;
    /** Ping rounds run so far, so a test can wait for rounds rather than time. */
    private final AtomicLong pingRounds = new AtomicLong();

    /**
     * @param token the current gateway token, read on every connect so a reload can change it
     * @param generation the current generation, told to a client on connect
     */
    public ControlSocket(RpcMethods methods, Supplier<Secret> token, LongSupplier generation, String version, EventHub hub) {
        this(methods, token, generation, version, hub, PING_EVERY);
    }

    ControlSocket(RpcMethods methods, Supplier<Secret> token, LongSupplier generation, String version, EventHub hub,
                  Duration pingEvery) {
        this.methods = methods;
        this.token = token;
        this.generation = generation;
        this.version = version;
        this.hub = hub;
        this.pingEvery = pingEvery;
        String name = "ferry-ws-" + INSTANCES.incrementAndGet();
        // Tasks due at once run in the order they were given; after close a client's last drain or send
        // matters to no one, so it is discarded.
        this.executor = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        }, new ThreadPoolExecutor.DiscardPolicy());
        executor.setRemoveOnCancelPolicy(true);
        executor.scheduleWithFixedDelay(this::pingAll, pingEvery.toMillis(), pingEvery.toMillis(), TimeUnit.MILLISECONDS);
        this.statusFeed = new StatusFeed(methods, hub, executor, clients);
    }

    /**
     * The handler that upgrades {@value #PATH} on {@code server}'s listener and passes every other
     * request to {@code next}: one per listener, all serving this socket's clients.
     */
    public Handler.Wrapper handler(Server server, Handler next) {
        WebSocketUpgradeHandler upgrade = WebSocketUpgradeHandler.from(server, container -> {
            // Over the cap Jetty closes with 1009 (message too big) without reading the rest.
            container.setMaxTextMessageSize(MAX_FRAME_BYTES);
            container.setMaxBinaryMessageSize(MAX_FRAME_BYTES);
            container.setMaxFrameSize(MAX_FRAME_BYTES);
            container.setIdleTimeout(IDLE_TIMEOUT);
            container.addMapping(PATH, (request, response, callback) ->
                    new Connection(request.getHeaders().get("Origin") != null));
        });
        upgrade.setHandler(next);
        return upgrade;
    }

    /**
     * Jetty's side of one connection: hands each callback to its client, and the pongs to its liveness.
     * Public only because Jetty calls it through method handles; nothing else makes one.
     */
    public final class Connection implements Session.Listener.AutoDemanding {
        private final boolean fromBrowser;
        /** Set on open, before any other callback of the connection. */
        private volatile ControlClient client;

        private Connection(boolean fromBrowser) {
            this.fromBrowser = fromBrowser;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            ControlClient opened = new ControlClient(ControlSocket.this, wire(session), executor, hub, fromBrowser,
                    MAX_QUEUED_FRAMES, MAX_QUEUED_CHARS);
            client = opened;
            clients.add(opened);
        }

        @Override
        public void onWebSocketText(String message) {
            client.heard();
            client.onText(message);
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            callback.succeed();
            client.heard();
            client.onBinary();
        }

        @Override
        public void onWebSocketPong(ByteBuffer payload) {
            client.heard();
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            ended();
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            log.debug("ws connection failed", cause);
            ended();
        }

        private void ended() {
            ControlClient ended = client;
            if (ended != null && clients.remove(ended)) {
                ended.ended();
            }
        }
    }

    private void pingAll() {
        pingRounds.incrementAndGet();
        for (ControlClient client : clients) {
            if (!client.ping(MAX_UNANSWERED_PINGS)) {
                log.info("ws client dropped: it answered none of {} pings over {} ms", MAX_UNANSWERED_PINGS,
                        MAX_UNANSWERED_PINGS * pingEvery.toMillis());
                if (clients.remove(client)) {
                    client.ended();
                }
            }
        }
    }

    private static Outbound.Wire wire(Session session) {
        return new Outbound.Wire() {
            @Override
            public void sendText(String text, Callback callback) {
                session.sendText(text, callback);
            }

            @Override
            public void sendPing(Callback callback) {
                session.sendPing(ByteBuffer.allocate(0), callback);
            }

            @Override
            public void close(int code, String reason, Callback callback) {
                session.close(code, reason, callback);
            }

            @Override
            public void disconnect() {
                session.disconnect();
            }
        };
    }

    Secret token() {
        return token.get();
    }

    long generation() {
        return generation.getAsLong();
    }

    String version() {
        return version;
    }

    RpcMethods methods() {
        return methods;
    }

    long pingRounds() {
        return pingRounds.get();
    }

    public int connections() {
        return clients.size();
    }

    /**
     * For a stop: every client gets what its subscription holds (the shutdown event) and then a 1001
     * close; waits up to {@code grace} for the closes to be written, so the listener closing after
     * this does not cut them off.
     */
    public void closeAll(Duration grace) {
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (ControlClient client : clients) {
            client.goAway();
            closing.add(client.closed());
        }
        try {
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).get(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.warn("ws clients still closing after {} ms count={}", grace.toMillis(), connections());
        } catch (ExecutionException e) {
            log.warn("ws close failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops our thread; the connections themselves close with their listener. */
    @Override
    public void close() {
        statusFeed.close();
        executor.shutdownNow();
    }
}
