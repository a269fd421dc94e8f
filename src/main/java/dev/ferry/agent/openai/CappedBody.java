package dev.ferry.agent.openai;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.net.http.HttpResponse;

/**
 * A whole response body as text, up to a cap: an error body (of which the head is enough to say why) or a
 * non-streamed completion. Past the cap it stops reading and yields what it has, so a server cannot make
 * us hold an endless body; {@link #TRUNCATED} then ends the text. Called by the client one signal at a
 * time, as reactive streams require, so its fields need no lock.
 */
final class CappedBody implements HttpResponse.BodySubscriber<String> {

    static final String TRUNCATED = "\u0000truncated";

    private final int maxBytes;
    private final CompletableFuture<String> text = new CompletableFuture<>();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private Flow.Subscription subscription;

    CappedBody(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    @Override
    public CompletionStage<String> getBody() {
        return text;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        this.subscription = subscription;
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        for (ByteBuffer item : items) {
            int room = maxBytes - bytes.size();
            if (item.remaining() > room) {
                byte[] head = new byte[room];
                item.get(head);
                bytes.writeBytes(head);
                subscription.cancel();
                text.complete(bytes.toString(StandardCharsets.UTF_8) + TRUNCATED);
                return;
            }
            byte[] all = new byte[item.remaining()];
            item.get(all);
            bytes.writeBytes(all);
        }
    }

    @Override
    public void onError(Throwable error) {
        // What arrived before the break still says why the server refused.
        if (bytes.size() > 0) {
            text.complete(bytes.toString(StandardCharsets.UTF_8));
        } else {
            text.completeExceptionally(error);
        }
    }

    @Override
    public void onComplete() {
        text.complete(bytes.toString(StandardCharsets.UTF_8));
    }
}
