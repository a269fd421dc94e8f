package dev.ferry.gateway;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.component.Graceful;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.channel.EndpointLookup;
import dev.ferry.channel.ChannelPages;
import dev.ferry.control.Json;
import dev.ferry.control.RpcMethods;
import dev.ferry.control.ws.ControlSocket;
import dev.ferry.config.GatewayConfig;
import dev.ferry.config.Secret;
import dev.ferry.intake.BearerToken;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Ferry's HTTP listener. Every answer is JSON (metrics aside), the HTTP server's own errors included,
 * every refusal carries a code and a reason, and no request body over {@link #MAX_BODY_BYTES} is read.
 * The endpoints that read a body are served by {@link IntakeHandler} in front of Javalin, which then
 * reads none; {@link OriginGuard} refuses a foreign page's WebSocket upgrade, and the
 * {@link ControlSocket}'s handler upgrades {@code /ws}, and {@link PageHandler} serves the channels' pages (the web chat page), all in front of
 * it; Javalin serves the rest. The handlers look up the current channel endpoints and token on each request, so a
 * reload can replace them while the listener stays bound. Thread-safe.
 */
final class HttpApi implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

    static final int MAX_BODY_BYTES = Json.MAX_BODY_BYTES;

    /** How long a retired listener waits for the answers in flight on it before it closes anyway. */
    private static final Duration RETIRE_GRACE = Duration.ofSeconds(10);

    /** Enough for the acceptor, the selectors and Jetty's reserved threads with room for requests. */
    private static final int MAX_THREADS = 16;
    private static final int MIN_THREADS = 4;
    private static final Duration THREAD_IDLE = Duration.ofSeconds(10);

    private final Javalin app;
    /** Made with the server, in Javalin's set-up, before anything is served. */
    private volatile Standby standby;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * @param token the current gateway token, read on every request so a reload can change it
     * @param endpoints the channels' intake endpoints by path, asked on every request
     * @param allowedOrigins the configured extra WebSocket origins, asked on every upgrade
     * @param pages the files the enabled channels serve by path, asked on every {@code GET}
     */
    HttpApi(GatewayConfig config, Supplier<Secret> token, RpcMethods rpc, EndpointLookup endpoints,
            PrometheusMeterRegistry metrics, Supplier<JsonNode> health, ControlSocket controlSocket,
            Supplier<List<String>> allowedOrigins, Function<String, Optional<ChannelPages.Page>> pages) {
        IntakeHandler intake = new IntakeHandler(endpoints, token, rpc, config.isLoopbackBind());
        this.app = Javalin.create(javalin -> {
            javalin.startup.showJavalinBanner = false;
            javalin.startup.showOldJavalinVersionWarning = false;
            javalin.jetty.host = config.bind();
            javalin.jetty.port = config.port();
            javalin.jetty.threadPool = threadPool();

            javalin.routes.get("/healthz", ctx -> json(ctx, 200, health.get()));
            javalin.routes.get("/metrics", ctx -> {
                if (authorized(ctx, token.get())) {
                    ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
                }
            });
            javalin.jetty.modifyServer(server -> {
                // Upgrades /ws in front of Javalin; every other request goes on to the intake handler.
                Handler upgrade = controlSocket.handler(server, new PageHandler(intake, pages));
                this.standby = new Standby(new OriginGuard(upgrade, config.bind(), allowedOrigins));
                // GracefulHandler counts the requests in flight, so a retired listener knows when it may close.
                server.setHandler(new GracefulHandler(standby));
                server.setErrorHandler(new ServerErrorHandler());
            });

            javalin.routes.error(404, ctx -> {
                // Keep a handler's own JSON 404; replace Javalin's plain-text one.
                if (!String.valueOf(ctx.res().getContentType()).startsWith("application/json")) {
                    json(ctx, 404, Json.notFound(String.valueOf(ctx.method()), ctx.path()));
                }
            });
            javalin.routes.error(405, ctx ->
                    json(ctx, 405, Json.methodNotAllowed(String.valueOf(ctx.method()), ctx.path())));
            javalin.routes.exception(Exception.class, (e, ctx) -> {
                log.error("request failed path={}", ctx.path(), e);
                json(ctx, 500, Json.internalError());
            });
        });
    }

    /**
     * Jetty's threads. No handler here blocks a thread on the journal or the agent (intake and RPC answer
     * from their futures), so a few threads serve any number of connections; Javalin's default pool grows
     * to 250 under a burst of connections, and each thread it keeps for its idle minute holds its stack.
     */
    private static QueuedThreadPool threadPool() {
        QueuedThreadPool pool = new QueuedThreadPool(MAX_THREADS, MIN_THREADS, (int) THREAD_IDLE.toMillis());
        pool.setName("ferry-jetty");
        return pool;
    }

    /** Binds the address; every request is answered 503 until {@link #serve()}. */
    void start() {
        app.start();
    }

    /** Serves from now on. */
    void serve() {
        standby.serve();
    }

    int port() {
        return app.port();
    }

    /**
     * Takes the listener out of service without cutting off an answer, and returns at once: it stops
     * accepting connections now, answers requests that still arrive on open ones with 503, and closes
     * once every request in flight has been answered, or after {@link #RETIRE_GRACE}. Returning at once
     * matters when the caller is what an answer in flight waits for: a reload that moves the listener
     * answers the {@code config.patch} that asked for it on this very listener.
     */
    void retire() {
        Server server = app.jettyServer().server();
        // The close runs on the listener's own pool: Jetty's stop leaves out the thread it runs on.
        Graceful.shutdown(server).orTimeout(RETIRE_GRACE.toMillis(), TimeUnit.MILLISECONDS)
                .whenCompleteAsync((drained, late) -> close(), server.getThreadPool());
    }

    /** Closes at once, cutting off what is in flight; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            app.stop();
        }
    }

    private static boolean authorized(Context ctx, Secret token) {
        if (!token.isPresent() || BearerToken.matches(token, ctx.header("Authorization"))) {
            return true;
        }
        ctx.header("WWW-Authenticate", "Bearer");
        json(ctx, 401, Json.unauthorized(ctx.header("Authorization")));
        return false;
    }

    private static void json(Context ctx, int status, JsonNode body) {
        ctx.status(status).contentType("application/json").result(Json.bytes(body));
    }
}
