package dev.ferry.gateway;

import java.util.List;
import java.util.function.Supplier;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.server.Response;

import dev.ferry.control.Json;
import dev.ferry.control.ws.WsOrigins;

/**
 * Refuses a {@code /ws} request from a foreign browser page with 403 before it is upgraded, so a page
 * on another site cannot drive a local gateway through the user's browser ({@link WsOrigins} decides).
 * In front of Javalin, so the refusal is JSON like every other answer. Thread-safe: the allowed origins
 * are read per request, so a reload can change them.
 */
final class OriginGuard extends Handler.Wrapper {

    static final String WS_PATH = "/ws";
    /** A foreign Origin quoted back in the refusal is cut to this length. */
    private static final int MAX_QUOTED = 100;

    private final String bind;
    private final Supplier<List<String>> allowedOrigins;

    OriginGuard(Handler next, String bind, Supplier<List<String>> allowedOrigins) {
        super(next);
        this.bind = bind;
        this.allowedOrigins = allowedOrigins;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = Request.getPathInContext(request);
        if (!WS_PATH.equals(path) && !(WS_PATH + "/").equals(path)) {
            return super.handle(request, response, callback);
        }
        String origin = request.getHeaders().get(HttpHeader.ORIGIN);
        if (WsOrigins.allowed(origin, bind, Request.getLocalPort(request), allowedOrigins.get())) {
            return super.handle(request, response, callback);
        }
        String shown = origin.length() <= MAX_QUOTED ? origin : origin.substring(0, MAX_QUOTED) + "...";
        byte[] body = Json.bytes(Json.error("FORBIDDEN_ORIGIN", "Origin '" + shown
                + "' may not open the WebSocket; it must be the gateway's own or listed in gateway.allowedOrigins"));
        IntakeHandler.answer(response, callback, 403, body);
        return true;
    }
}
