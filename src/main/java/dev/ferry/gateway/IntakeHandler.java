package dev.ferry.gateway;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.channel.ChannelEndpoint;
import dev.ferry.channel.EndpointLookup;
import dev.ferry.control.Json;
import dev.ferry.control.RpcException;
import dev.ferry.control.RpcMethods;
import dev.ferry.config.Secret;
import dev.ferry.journal.JournalUnavailableException;
import dev.ferry.intake.BearerToken;
import dev.ferry.intake.Intake;
import dev.ferry.intake.IntakeResponse;
import dev.ferry.intake.StrictJson;

/**
 * Serves every endpoint that reads a request body (the channels' intake endpoints, found by their path,
 * {@code POST /rpc} and the benchmarks' no-op) on Jetty's own API, in front of Javalin, and passes every
 * other request on. No thread waits for a client here: a body is read as its bytes arrive, with a
 * callback when there are none, so a client that sends slowly holds a connection and nothing else. Nor
 * does a thread wait for the work: an answer is written, without blocking, by whichever thread completes
 * it (the journal's commit, a reload). The no-op endpoint takes the same path as intake, so the two differ only by the journal; it
 * is served on a loopback listener only. Thread-safe: the endpoints and the token are read per request.
 */
final class IntakeHandler extends Handler.Wrapper {
    private static final Logger log = LoggerFactory.getLogger(IntakeHandler.class);

    static final String RPC_PATH = "/rpc";
    static final String NOOP_PATH = "/bench/noop";

    /** How much of an oversized body is still read (and discarded) so that the 413 arrives intact. */
    /** The most a body's buffer holds before its bytes arrive; typical channel bodies fit in it. */
    private static final int INITIAL_BUFFER_BYTES = 16 * 1024;
    private static final long DRAIN_LIMIT_BYTES = 8L * HttpApi.MAX_BODY_BYTES;
    /** A Content-Type quoted back in a refusal is cut to this length. */
    private static final int MAX_QUOTED_TYPE = 80;

    private static final byte[] NOOP_ANSWER = Json.bytes(Json.object().put("accepted", false).put("noop", true));
    private static final byte[] TOO_LARGE = Json.bytes(Json.bodyTooLarge());
    private static final byte[] UNREADABLE = Json.bytes(Json.bodyUnreadable());
    private static final byte[] INTERNAL = Json.bytes(Json.internalError());
    private static final byte[] NOT_AN_RPC = Json.bytes(Json.error("INVALID_REQUEST",
            "body: must be {\"method\": string, \"params\": object}"));

    private final EndpointLookup endpoints;
    private final Supplier<Secret> token;
    private final RpcMethods rpc;
    private final boolean servesNoop;

    /**
     * @param endpoints the channels' endpoints by path, each known even while its channel is disabled; asked
     *                  per request
     * @param token the current gateway token, which {@code /rpc} requires; read per request
     * @param servesNoop whether {@code /bench/noop} exists: only on a loopback listener, which only this machine reaches
     */
    IntakeHandler(EndpointLookup endpoints, Supplier<Secret> token, RpcMethods rpc, boolean servesNoop) {
        this.endpoints = endpoints;
        this.token = token;
        this.rpc = rpc;
        this.servesNoop = servesNoop;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = withoutTrailingSlash(Request.getPathInContext(request));
        boolean rpcOrNoop = RPC_PATH.equals(path) || (servesNoop && NOOP_PATH.equals(path));
        Optional<EndpointLookup.Mounted> channel = rpcOrNoop ? Optional.empty() : endpoints.endpointAt(path);
        if (!rpcOrNoop && channel.isEmpty()) {
            return super.handle(request, response, callback);
        }
        if (!HttpMethod.POST.is(request.getMethod())) {
            response.getHeaders().put(HttpHeader.ALLOW, "POST");
            answer(response, callback, 405, Json.bytes(Json.methodNotAllowed(request.getMethod(), path)));
            return true;
        }
        String notJson = notJson(request.getHeaders().get(HttpHeader.CONTENT_TYPE));
        if (notJson != null) {
            answerAndClose(response, callback, 415, Json.bytes(Json.error("UNSUPPORTED_MEDIA_TYPE", notJson)));
            return true;
        }
        if (channel.isPresent()) {
            EndpointLookup.Mounted mounted = channel.get();
            if (!mounted.enabled()) {
                answer(response, callback, 404, Json.bytes(Json.error("CHANNEL_DISABLED",
                        "the " + mounted.channel() + " channel is not enabled")));
            } else {
                ChannelEndpoint endpoint = mounted.endpoint();
                withBody(request, response, callback, body -> answerLater(response, callback, mounted.channel(),
                        endpoint.handle(request.getHeaders()::get, body)));
            }
            return true;
        }
        String authorization = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        switch (path) {
            case RPC_PATH -> {
                Secret expected = token.get();
                if (expected.isPresent() && !BearerToken.matches(expected, authorization)) {
                    // Refused before its body is read, so the rest of it is left unread.
                    response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
                    answerAndClose(response, callback, 401, Json.bytes(Json.unauthorized(authorization)));
                } else {
                    withBody(request, response, callback, body -> call(response, callback, body));
                }
            }
            default -> withBody(request, response, callback, body -> answer(response, callback, 202, NOOP_ANSWER));
        }
        return true;
    }

    /**
     * Why a body of this Content-Type is not read, or null when it is JSON: {@code application/json} or
     * any {@code +json} type, in UTF-8. A request without a Content-Type is read as JSON, strictly like
     * any other, since many senders leave it out.
     */
    private static String notJson(String contentType) {
        if (contentType == null || contentType.equalsIgnoreCase("application/json")) {
            return null;
        }
        String[] parts = contentType.split(";");
        String type = parts[0].trim().toLowerCase(Locale.ROOT);
        if (!type.equals("application/json") && !type.endsWith("+json")) {
            return "Content-Type: " + quoted(type) + " is not JSON; send application/json";
        }
        for (int i = 1; i < parts.length; i++) {
            String parameter = parts[i].trim();
            if (parameter.regionMatches(true, 0, "charset=", 0, "charset=".length())) {
                String charset = parameter.substring("charset=".length()).replace("\"", "").trim();
                if (!charset.equalsIgnoreCase("utf-8") && !charset.equalsIgnoreCase("utf8")) {
                    return "Content-Type: charset " + quoted(charset) + " is not supported; send UTF-8";
                }
            }
        }
        return null;
    }

    private static String quoted(String value) {
        return value.length() <= MAX_QUOTED_TYPE ? value : value.substring(0, MAX_QUOTED_TYPE) + "...";
    }

    /** Dispatches one RPC whose body was read; the answer is written by whichever thread completes the call. */
    private void call(Response response, Callback callback, byte[] body) {
        StrictJson.Read read = StrictJson.read(body);
        if (!read.ok()) {
            answer(response, callback, 400, Json.bytes(Json.error("INVALID_JSON", read.error())));
            return;
        }
        JsonNode call = read.value();
        if (!call.isObject() || !call.path("method").isTextual()) {
            answer(response, callback, 400, NOT_AN_RPC);
            return;
        }
        String method = call.get("method").asText();
        rpc.call(method, call.get("params")).whenComplete((payload, failure) -> {
            if (failure == null) {
                answer(response, callback, 200, Json.bytes(Json.ok(payload)));
            } else {
                answerRpcFailure(response, callback, method, failure);
            }
        });
    }

    private static void answerRpcFailure(Response response, Callback callback, String method, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof RpcException refused) {
            answer(response, callback, refused.httpStatus(), Json.bytes(Json.error(refused.code(), refused.getMessage())));
            return;
        }
        var unavailable = JournalUnavailableException.findIn(cause);
        if (unavailable.isPresent()) {
            response.getHeaders().put(HttpHeader.RETRY_AFTER, Intake.RETRY_UNAVAILABLE_AFTER_SECONDS);
            answer(response, callback, 503, Json.bytes(Json.error("JOURNAL_UNAVAILABLE", unavailable.get().getMessage())));
            return;
        }
        log.error("rpc failed method={}", method, cause);
        answer(response, callback, 500, INTERNAL);
    }

    /**
     * Reads the whole body without blocking. A body over the limit is answered 413, after reading the rest
     * of it up to {@link #DRAIN_LIMIT_BYTES}: answering in the middle of an upload makes the connection
     * close with data unread, and the client may then lose the answer to a reset.
     */
    private static void withBody(Request request, Response response, Callback callback, Consumer<byte[]> next) {
        long declared = request.getLength();
        if (declared > DRAIN_LIMIT_BYTES) {
            answerAndClose(response, callback, 413, TOO_LARGE);
            return;
        }
        // The declared length is only a promise: a client that declares 1 MiB and sends nothing must not
        // pin 1 MiB of heap per connection, so the buffer starts small and grows with the bytes that arrive.
        int expected = (int) Math.min(INITIAL_BUFFER_BYTES, Math.max(declared, 256));
        new BodyReader(request, response, callback, next, expected).run();
    }

    /** Reads chunks while they are there and asks to be called back when they are not. */
    private static final class BodyReader implements Runnable {
        private final Request request;
        private final Response response;
        private final Callback callback;
        private final Consumer<byte[]> next;
        private byte[] body;
        /** Bytes read so far, kept or not. */
        private long length;

        BodyReader(Request request, Response response, Callback callback, Consumer<byte[]> next, int expected) {
            this.request = request;
            this.response = response;
            this.callback = callback;
            this.next = next;
            this.body = new byte[expected];
        }

        @Override
        public void run() {
            while (true) {
                Content.Chunk chunk = request.read();
                if (chunk == null) {
                    request.demand(this);
                    return;
                }
                if (Content.Chunk.isFailure(chunk)) {
                    answerAndClose(response, callback, 400, UNREADABLE);
                    return;
                }
                append(chunk.getByteBuffer());
                boolean last = chunk.isLast();
                chunk.release();
                if (length > DRAIN_LIMIT_BYTES) {
                    answerAndClose(response, callback, 413, TOO_LARGE);
                    return;
                }
                if (last) {
                    if (length > HttpApi.MAX_BODY_BYTES) {
                        answer(response, callback, 413, TOO_LARGE);
                    } else {
                        handOn(length == body.length ? body : Arrays.copyOf(body, (int) length));
                    }
                    return;
                }
            }
        }

        private void handOn(byte[] whole) {
            try {
                next.accept(whole);
            } catch (RuntimeException e) {
                log.error("request failed path={}", Request.getPathInContext(request), e);
                answer(response, callback, 500, INTERNAL);
            }
        }

        /** Keeps bytes up to the limit and only counts the rest, which is read to be thrown away. */
        private void append(ByteBuffer bytes) {
            int size = bytes.remaining();
            if (length + size <= HttpApi.MAX_BODY_BYTES) {
                if (length + size > body.length) {
                    body = Arrays.copyOf(body, (int) Math.min(HttpApi.MAX_BODY_BYTES, Math.max(length + size, body.length * 2L)));
                }
                bytes.get(body, (int) length, size);
            }
            length += size;
        }
    }

    /** Javalin ignores a trailing slash on its routes; these paths do the same. */
    private static String withoutTrailingSlash(String path) {
        return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    private static void answerLater(Response response, Callback callback, String channel,
                                    CompletableFuture<IntakeResponse> pending) {
        pending.whenComplete((result, failure) -> {
            if (failure == null) {
                if (result.retryAfterSeconds() > 0) {
                    response.getHeaders().put(HttpHeader.RETRY_AFTER, result.retryAfterSeconds());
                }
                answer(response, callback, result.status(), Json.bytes(result.body()));
            } else {
                log.error("channel intake failed channel={}", channel, failure);
                answer(response, callback, 500, INTERNAL);
            }
        });
    }

    /**
     * Answers before the body was read to its end. The rest of the body is left unread, so the connection
     * cannot carry another request; saying so keeps a keep-alive client from sending its next one there.
     */
    private static void answerAndClose(Response response, Callback callback, int status, byte[] json) {
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        answer(response, callback, status, json);
    }

    /** Writes a JSON answer without blocking; the one way every handler in front of Javalin answers. */
    static void answer(Response response, Callback callback, int status, byte[] json) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, json.length);
        response.write(true, ByteBuffer.wrap(json), callback);
    }
}
