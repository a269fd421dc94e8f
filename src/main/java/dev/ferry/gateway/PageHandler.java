package dev.ferry.gateway;

import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.function.Function;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import dev.ferry.channel.ChannelPages;

/**
 * Serves the files the enabled channels serve by {@code GET} (the web chat page), found by path on every
 * request so a reload that disables a channel takes its page away; every other request goes on. In front
 * of Javalin, on Jetty's core API, like the other handlers that answer without it. Thread-safe.
 */
final class PageHandler extends Handler.Wrapper {

    private final Function<String, Optional<ChannelPages.Page>> pages;

    PageHandler(Handler next, Function<String, Optional<ChannelPages.Page>> pages) {
        super(next);
        this.pages = pages;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String method = request.getMethod();
        boolean head = HttpMethod.HEAD.is(method);
        if (!HttpMethod.GET.is(method) && !head) {
            return super.handle(request, response, callback);
        }
        Optional<ChannelPages.Page> found = pages.apply(Request.getPathInContext(request));
        if (found.isEmpty()) {
            return super.handle(request, response, callback);
        }
        ChannelPages.Page page = found.get();
        response.setStatus(200);
        page.headers().forEach((name, value) -> response.getHeaders().put(name, value));
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, page.contentType());
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, page.bytes().length);
        response.write(true, head ? ByteBuffer.allocate(0) : ByteBuffer.wrap(page.bytes()), callback);
        return true;
    }
}
