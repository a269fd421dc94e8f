package dev.ferry.channel.webhook;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.delivery.ReplyTransport;
import dev.ferry.delivery.SendOutcome;
import dev.ferry.journal.Reply;

/**
 * The outbound side of the webhook channel: {@code POST}s each reply as JSON to the reply URL with the
 * reply id as {@code Idempotency-Key}. A 2xx is delivered; a 4xx other than 408 and 429 is a refusal for
 * good, whose reason is the status and the start of the receiver's body; anything else is retried, after
 * the receiver's {@code Retry-After} (in seconds) on 429 and 503. A reason never names the URL, and the
 * URL's credentials (user info, query values) are masked should the receiver echo them in its body.
 * Thread-safe and immutable; sends run on the {@link HttpClient}'s threads.
 */
public final class WebhookReplyTransport implements ReplyTransport {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);
    /** How much of a refusal's body is read: enough to say why, and a receiver cannot hold a send with an endless one. */
    static final int REASON_BODY_BYTES = 1024;
    static final int REASON_BODY_CHARS = 160;
    /** Shorter URL parts are flags and ids, not credentials, and masking them would garble reasons. */
    private static final int SECRET_MIN_CHARS = 8;

    private final HttpClient http;
    private final URI replyUrl;
    /** The URL's user info and query values, raw and decoded, that a reason must never show. */
    private final List<String> urlSecrets;

    public WebhookReplyTransport(HttpClient http, URI replyUrl) {
        this.http = http;
        this.replyUrl = replyUrl;
        this.urlSecrets = secretsOf(replyUrl);
    }

    @Override
    public CompletableFuture<SendOutcome> send(Reply reply) {
        HttpRequest request = HttpRequest.newBuilder(replyUrl)
                .timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", reply.replyId())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body(reply)))
                .build();
        return http.sendAsync(request, WebhookReplyTransport::bodyUnlessAccepted).thenApply(this::outcome);
    }

    private SendOutcome outcome(HttpResponse<String> response) {
        int status = response.statusCode();
        if (status / 100 == 2) {
            return SendOutcome.DELIVERED;
        }
        String body = response.body();
        for (String secret : urlSecrets) {
            body = body.replace(secret, "<redacted>");
        }
        body = summary(body);
        String reason = "HTTP " + status + (body.isEmpty() ? "" : ": " + body);
        if (status / 100 == 4 && status != 408 && status != 429) {
            return SendOutcome.refused(reason);
        }
        Duration retryAfter = status == 429 || status == 503 ? retryAfterSeconds(response) : null;
        return SendOutcome.retry(reason, retryAfter);
    }

    /** The {@code Retry-After} header in seconds, or null when absent or in another form (an HTTP date). */
    private static Duration retryAfterSeconds(HttpResponse<?> response) {
        String value = response.headers().firstValue("Retry-After").orElse("").strip();
        return value.matches("\\d{1,9}") ? Duration.ofSeconds(Long.parseLong(value)) : null;
    }

    /** The body on one line, control characters and runs of whitespace as one space, cut with an ellipsis. */
    static String summary(String body) {
        String line = body.replaceAll("[\\p{Cntrl}\\s]+", " ").strip();
        return line.length() <= REASON_BODY_CHARS ? line : line.substring(0, REASON_BODY_CHARS - 1).stripTrailing() + "…";
    }

    private static List<String> secretsOf(URI url) {
        List<String> parts = new ArrayList<>();
        if (url.getRawUserInfo() != null) {
            parts.add(url.getRawUserInfo());
        }
        if (url.getRawQuery() != null) {
            for (String pair : url.getRawQuery().split("&")) {
                parts.add(pair.substring(pair.indexOf('=') + 1));
            }
        }
        List<String> secrets = new ArrayList<>();
        for (String part : parts) {
            secrets.add(part);
            secrets.add(URLDecoder.decode(part, StandardCharsets.UTF_8));
        }
        secrets.removeIf(secret -> secret.length() < SECRET_MIN_CHARS);
        return List.copyOf(secrets);
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

    /** An accepted reply's body is read and dropped; any other answer keeps the start of its body, for the reason. */
    private static HttpResponse.BodySubscriber<String> bodyUnlessAccepted(HttpResponse.ResponseInfo info) {
        return info.statusCode() / 100 == 2 ? HttpResponse.BodySubscribers.replacing("") : new BodyHead();
    }

    /**
     * Keeps the first {@value #REASON_BODY_BYTES} bytes of a body and stops reading there. A body that
     * breaks off still yields what arrived: the status alone decides the verdict. Called by the client
     * one signal at a time, as reactive streams require.
     */
    private static final class BodyHead implements HttpResponse.BodySubscriber<String> {
        private final CompletableFuture<String> text = new CompletableFuture<>();
        private final ByteArrayOutputStream head = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        @Override
        public CompletionStage<String> getBody() {
            return text;
        }

        @Override
        public void onSubscribe(Flow.Subscription given) {
            subscription = given;
            given.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer buffer : buffers) {
                byte[] bytes = new byte[Math.min(buffer.remaining(), REASON_BODY_BYTES - head.size())];
                buffer.get(bytes);
                head.writeBytes(bytes);
            }
            if (head.size() < REASON_BODY_BYTES) {
                subscription.request(1);
            } else {
                subscription.cancel();
                onComplete();
            }
        }

        @Override
        public void onError(Throwable error) {
            onComplete();
        }

        @Override
        public void onComplete() {
            text.complete(head.toString(StandardCharsets.UTF_8));
        }
    }
}
