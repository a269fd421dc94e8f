package dev.ferry.gateway;

import java.nio.ByteBuffer;

import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import dev.ferry.control.Json;

/**
 * Writes the errors the HTTP server produces on its own, for requests no handler of Ferry answers (a
 * malformed request line, a bad {@code Content-Length}, headers over the limit, a handler that threw, a
 * request that reaches a listener being retired), in the same JSON shape as every other refusal:
 * {@code {"ok":false,"error":{"code","message"}}}. A 500 never carries the exception's text, which
 * may hold anything; Jetty logs the exception. Stateless.
 */
final class ServerErrorHandler extends ErrorHandler {

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = response.getStatus();
        String message = request.getAttribute(ERROR_MESSAGE) instanceof String given ? given : null;
        if (request.getAttribute(ERROR_EXCEPTION) instanceof HttpException refused) {
            status = refused.getCode();
            response.setStatus(status);
            message = message == null ? refused.getReason() : message;
        }
        if (HttpStatus.hasNoBody(status) || HttpMethod.HEAD.is(request.getMethod())) {
            callback.succeeded();
            return true;
        }
        if (status == HttpStatus.INTERNAL_SERVER_ERROR_500) {
            message = Json.INTERNAL_MESSAGE;
        } else if (message == null) {
            message = HttpStatus.getMessage(status);
        }
        byte[] body = Json.bytes(Json.error(code(status), message));
        response.getHeaders().put(ERROR_CACHE_CONTROL);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
        return true;
    }

    private static String code(int status) {
        return switch (status) {
            case 400 -> "INVALID_REQUEST";
            case 404 -> "NOT_FOUND";
            case 405 -> "METHOD_NOT_ALLOWED";
            case 408 -> "REQUEST_TIMEOUT";
            case 413 -> "PAYLOAD_TOO_LARGE";
            case 414 -> "URI_TOO_LONG";
            case 415 -> "UNSUPPORTED_MEDIA_TYPE";
            case 431 -> "HEADERS_TOO_LARGE";
            case 500 -> "INTERNAL";
            case 503 -> "UNAVAILABLE";
            default -> "HTTP_" + status;
        };
    }
}
