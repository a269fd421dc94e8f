package dev.ferry.gateway;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import dev.ferry.control.Json;

/**
 * In front of everything a listener serves: until {@link #serve()} it answers every request 503 with
 * {@code Retry-After}, reading nothing. A listener a reload binds on a new address waits so until the
 * reload commits, so neither the old generation nor the new one shows there before its time, and a
 * reload that is discarded leaves nothing behind that ever served. Thread-safe.
 */
final class Standby extends Handler.Wrapper {

    private static final byte[] NOT_YET = Json.bytes(Json.error("NOT_SERVING",
            "this listener serves once the reload that opened it is applied"));

    private volatile boolean serving;

    Standby(Handler next) {
        super(next);
    }

    /** From now on every request goes through. */
    void serve() {
        serving = true;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (serving) {
            return super.handle(request, response, callback);
        }
        response.getHeaders().put(HttpHeader.RETRY_AFTER, 1);
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        IntakeHandler.answer(response, callback, 503, NOT_YET);
        return true;
    }
}
