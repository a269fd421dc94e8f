package dev.ferry.control.ws;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.config.Secret;
import dev.ferry.control.RpcMethods;
import dev.ferry.events.EventHub;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsContext;

/**
 * {@code GET /ws}: the WebSocket control protocol of SPEC 3.5 over the one table of RPC methods that
 * {@code POST /rpc} serves. It keeps one {@link ControlClient} per connection and one named thread on
 * which every client's events are drained and its next frame sent, so no publisher and no Jetty thread
 * ever waits for a client. One per gateway, across listeners; thread-safe.
 */
public final class ControlSocket implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlSocket.class);

    /** No frame over this is read (SPEC 3.5: the same cap as an HTTP body); Jetty closes with 1009. */
    public static final int MAX_FRAME_BYTES = 1 << 20;
    /** Server pings at this period keep an idle connection's path open and show the peer is there. */
    public static final Duration PING_EVERY = Duration.ofSeconds(15);
    /** A connection with nothing read or written for this long is dead and is closed by Jetty. */
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
    /**
     * One thread, so each client's drains and sends run in the order they were asked for (a shutdown
     * event before its close). Its tasks never block: a write is asynchronous.
     */
    private final ScheduledThreadPoolExecutor executor;
    /** By Javalin's session id, which every callback of one connection carries. */
    private final Map<String, ControlClient> clients = new ConcurrentHashMap<>();

    /**
     * @param token the current gateway token, read on every connect so a reload can change it
     * @param generation the current generation, told to a client on connect
     */
    public ControlSocket(RpcMethods methods, Supplier<Secret> token, LongSupplier generation, String version, EventHub hub) {
        this.methods = methods;
        this.token = token;
        this.generation = generation;
        this.version = version;
        this.hub = hub;
        String name = "ferry-ws-" + INSTANCES.incrementAndGet();
        // Tasks due at once run in the order they were given; after close a client's last drain or send
        // matters to no one, so it is discarded.
        this.executor = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        }, new ThreadPoolExecutor.DiscardPolicy());
        executor.setRemoveOnCancelPolicy(true);
    }

    /** Wires the connection's life cycle into Javalin's handlers for the {@code /ws} route. */
    public void configure(WsConfig ws) {
        ws.onConnect(ctx -> {
            ControlClient client = new ControlClient(this, wire(ctx.session), executor, hub, MAX_QUEUED_FRAMES,
                    MAX_QUEUED_CHARS);
            clients.put(ctx.sessionId(), client);
            ctx.enableAutomaticPings(PING_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        });
        ws.onMessage(ctx -> {
            ControlClient client = client(ctx);
            if (client != null) {
                client.onText(ctx.message());
            }
        });
        ws.onBinaryMessage(ctx -> {
            ControlClient client = client(ctx);
            if (client != null) {
                client.onBinary();
            }
        });
        ws.onClose(ctx -> ended(ctx));
        ws.onError(ctx -> {
            log.debug("ws connection failed session={}", ctx.sessionId(), ctx.error());
            ended(ctx);
        });
    }

    private ControlClient client(WsContext ctx) {
        return clients.get(ctx.sessionId());
    }

    private void ended(WsContext ctx) {
        ctx.disableAutomaticPings();
        ControlClient client = clients.remove(ctx.sessionId());
        if (client != null) {
            client.ended();
        }
    }

    private static Outbound.Wire wire(Session session) {
        return new Outbound.Wire() {
            @Override
            public void sendText(String text, Callback callback) {
                session.sendText(text, callback);
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
        for (ControlClient client : clients.values()) {
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
        executor.shutdownNow();
    }
}
