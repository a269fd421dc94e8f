package dev.ferry.intake.channel.webhook;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.delivery.ReplyTransport;
import dev.ferry.journal.Reply;

/**
 * The outbound side of the webhook channel: {@code POST}s each reply as JSON to the reply URL with the
 * reply id as {@code Idempotency-Key}. Only a 2xx counts as delivered. Thread-safe.
 */
public final class WebhookReplyTransport implements ReplyTransport {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);

    private final HttpClient http;
    private final URI replyUrl;

    public WebhookReplyTransport(HttpClient http, URI replyUrl) {
        this.http = http;
        this.replyUrl = replyUrl;
    }

    @Override
    public CompletableFuture<Void> send(Reply reply) {
        HttpRequest request = HttpRequest.newBuilder(replyUrl)
                .timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", reply.replyId())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body(reply)))
                .build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).thenApply(response -> {
            if (response.statusCode() / 100 != 2) {
                throw new ReplyRejectedException(replyUrl + " answered " + response.statusCode());
            }
            return null;
        });
    }

    static byte[] body(Reply reply) {
        ObjectNode body = JSON.createObjectNode()
                .put("replyId", reply.replyId())
                .put("conversation", reply.conversation())
                .put("to", reply.to())
                .put("text", reply.text());
        var inReplyTo = body.putArray("inReplyTo");
        reply.inReplyTo().forEach(inReplyTo::add);
        if (reply.threadId() != null) {
            body.put("threadId", reply.threadId());
        }
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a reply always serialises", e);
        }
    }

    /** The receiver answered, but not with a 2xx. */
    static final class ReplyRejectedException extends RuntimeException {
        ReplyRejectedException(String message) {
            super(message, null, false, false);
        }
    }
}
