package dev.ferry.delivery;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import dev.ferry.journal.Reply;

/**
 * A transport whose sends the test settles: each {@code send} is recorded with an open future, which
 * the test completes with a verdict ({@link #accept}, {@link #refuse}, {@link #retryAfter}) or fails as a
 * fault without one ({@link #reject}). Thread-safe; guarded by {@code this}.
 */
final class RecordingTransport implements ReplyTransport {

    record Attempt(Reply reply, CompletableFuture<SendOutcome> result) {}

    private final List<Attempt> attempts = new ArrayList<>();

    @Override
    public synchronized CompletableFuture<SendOutcome> send(Reply reply) {
        var attempt = new Attempt(reply, new CompletableFuture<>());
        attempts.add(attempt);
        return attempt.result();
    }

    /** The reply ids in the order they were sent, one entry per attempt. */
    synchronized List<String> sentIds() {
        return attempts.stream().map(attempt -> attempt.reply().replyId()).toList();
    }

    /** The reply ids of the sends not yet settled. */
    synchronized List<String> inFlightIds() {
        return attempts.stream().filter(attempt -> !attempt.result().isDone())
                .map(attempt -> attempt.reply().replyId()).toList();
    }

    synchronized Attempt last() {
        return attempts.get(attempts.size() - 1);
    }

    void accept() {
        last().result().complete(SendOutcome.DELIVERED);
    }

    void accept(String replyId) {
        attemptFor(replyId).result().complete(SendOutcome.DELIVERED);
    }

    void reject(String reason) {
        last().result().completeExceptionally(new RuntimeException(reason));
    }

    void refuse(String reason) {
        last().result().complete(SendOutcome.refused(reason));
    }

    void retryAfter(String reason, Duration wait) {
        last().result().complete(SendOutcome.retry(reason, wait));
    }

    synchronized Attempt attemptFor(String replyId) {
        for (int i = attempts.size() - 1; i >= 0; i--) {
            if (attempts.get(i).reply().replyId().equals(replyId)) {
                return attempts.get(i);
            }
        }
        throw new AssertionError("never sent: " + replyId);
    }
}
