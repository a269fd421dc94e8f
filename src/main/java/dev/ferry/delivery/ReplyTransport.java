package dev.ferry.delivery;

import java.util.concurrent.CompletableFuture;

import dev.ferry.journal.Reply;

/**
 * How one channel sends a reply to its platform. The future completes normally once the platform
 * accepted the reply, and exceptionally otherwise; the outbox decides whether and when to try again.
 * Implementations should pass {@link Reply#replyId()} as an idempotency key where the platform allows.
 */
@FunctionalInterface
public interface ReplyTransport {
    CompletableFuture<Void> send(Reply reply);
}
