package dev.ferry.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.GatewayConfig;
import dev.ferry.config.Secret;
import dev.ferry.intake.BearerToken;
import dev.ferry.intake.channel.webhook.WebhookInbound;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Ferry's HTTP listener. Every answer is JSON (metrics aside), every refusal carries a code and a
 * reason, and no request body over {@link #MAX_BODY_BYTES} is read. The handlers look up the current
 * channel endpoints on each request, so a reload can replace them while the listener stays bound.
 */
final class HttpApi implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

    static final int MAX_BODY_BYTES = 1 << 20;

    private final Javalin app;

    /** @param token the current gateway token, read on every request so a reload can change it */
    HttpApi(GatewayConfig config, Supplier<Secret> token, RpcMethods rpc, Supplier<WebhookInbound> webhook,
            PrometheusMeterRegistry metrics, Supplier<JsonNode> health) {
        this.app = Javalin.create(javalin -> {
            javalin.startup.showJavalinBanner = false;
            javalin.startup.showOldJavalinVersionWarning = false;
            javalin.jetty.host = config.bind();
            javalin.jetty.port = config.port();
            javalin.http.maxRequestSize = MAX_BODY_BYTES;

            javalin.routes.get("/healthz", ctx -> json(ctx, 200, health.get()));
            javalin.routes.get("/metrics", ctx -> {
                if (authorized(ctx, token.get())) {
                    ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
                }
            });
            javalin.routes.post("/rpc", ctx -> {
                if (authorized(ctx, token.get())) {
                    handleRpc(ctx, rpc);
                }
            });
            // Intake and the benchmarks' no-op are served in front of Javalin; see IntakeHandler.
            javalin.jetty.modifyServer(server -> server.setHandler(new IntakeHandler(webhook)));

            javalin.routes.error(404, ctx -> {
                // Keep a handler's own JSON 404; replace Javalin's plain-text one.
                if (!String.valueOf(ctx.res().getContentType()).startsWith("application/json")) {
                    json(ctx, 404, Json.error("NOT_FOUND", "no such endpoint: " + ctx.method() + " " + ctx.path()));
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

    void start() {
        app.start();
    }

    int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
    }

    private static void handleRpc(Context ctx, RpcMethods rpc) {
        byte[] body = readBody(ctx);
        if (body == null) {
            return;
        }
        JsonNode request;
        try {
            request = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            json(ctx, 400, Json.error("INVALID_JSON", "body: not valid JSON: " + originalMessage(e)));
            return;
        }
        if (request == null || !request.isObject() || !request.path("method").isTextual()) {
            json(ctx, 400, Json.error("INVALID_REQUEST", "body: must be {\"method\": string, \"params\": object}"));
            return;
        }
        String method = request.get("method").asText();
        ctx.future(() -> rpc.call(method, request.get("params")).handle((payload, error) -> {
            if (error == null) {
                json(ctx, 200, Json.ok(payload));
            } else {
                writeRpcError(ctx, method, error);
            }
            return null;
        }));
    }

    private static void writeRpcError(Context ctx, String method, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof RpcException refused) {
            json(ctx, refused.httpStatus(), Json.error(refused.code(), refused.getMessage()));
        } else {
            log.error("rpc failed method={}", method, cause);
            json(ctx, 500, Json.internalError());
        }
    }

    /** The request body, or null after answering 413 when it is larger than the limit. */
    private static byte[] readBody(Context ctx) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > MAX_BODY_BYTES) {
            tooLarge(ctx);
            return null;
        }
        try (InputStream in = ctx.bodyInputStream()) {
            byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
            if (body.length > MAX_BODY_BYTES) {
                tooLarge(ctx);
                return null;
            }
            return body;
        } catch (IOException e) {
            json(ctx, 400, Json.bodyUnreadable());
            return null;
        }
    }

    private static void tooLarge(Context ctx) {
        json(ctx, 413, Json.bodyTooLarge());
    }

    private static boolean authorized(Context ctx, Secret token) {
        if (!token.isPresent() || BearerToken.matches(token, ctx.header("Authorization"))) {
            return true;
        }
        ctx.header("WWW-Authenticate", "Bearer");
        String reason = ctx.header("Authorization") == null ? "missing bearer token" : "invalid bearer token";
        json(ctx, 401, Json.error("UNAUTHORIZED", reason));
        return false;
    }

    private static void json(Context ctx, int status, JsonNode body) {
        ctx.status(status).contentType("application/json").result(Json.bytes(body));
    }

    private static String originalMessage(IOException e) {
        return e instanceof JsonProcessingException parsing ? parsing.getOriginalMessage() : "unreadable";
    }
}
