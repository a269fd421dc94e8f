package dev.ferry.delivery;

import java.util.concurrent.CompletableFuture;

import dev.ferry.journal.Reply;

/**
 * How one channel sends a reply to its platform. The future completes with the platform's verdict; it
 * fails only on a fault that left no verdict (unreachable, timed out), which the outbox retries like
 * {@link SendOutcome.Verdict#RETRY}. {@code send} must not block: it is called on whichever thread settled
 * the previous send. Implementations should pass {@link Reply#replyId()} as an idempotency key where the
 * platform allows.
 */
@FunctionalInterface
public interface ReplyTransport {
    CompletableFuture<SendOutcome> send(Reply reply);
}
