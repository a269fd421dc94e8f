package dev.ferry.bench;

import java.nio.charset.StandardCharsets;
import java.util.function.ObjLongConsumer;

import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The benchmarks' reply sink, the webhook channel's reply URL: each reply is handed to {@code answered}
 * once per message it names ({@code inReplyTo}), with the monotonic time it arrived, and answered 204.
 */
final class ReplySinkHandler extends Handler.Abstract {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjLongConsumer<String> answered;

    ReplySinkHandler(ObjLongConsumer<String> answered) {
        this.answered = answered;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        Content.Source.asStringAsync(request, StandardCharsets.UTF_8).whenComplete((body, failure) -> {
            long now = System.nanoTime();
            try {
                for (JsonNode id : JSON.readTree(body).path("inReplyTo")) {
                    answered.accept(id.asText(), now);
                }
            } catch (Exception e) {
                System.err.println("sink: unreadable reply " + e);
            }
            response.setStatus(204);
            callback.succeeded();
        });
        return true;
    }
}
