package dev.ferry.delivery;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.journal.Journal;
import dev.ferry.journal.Reply;
import dev.ferry.time.Scheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Sends committed replies, one at a time per session so that a session's replies arrive in order, and
 * any number of sessions at once. A failed send is retried after {@link RetryPolicy} backoff, holding
 * back the session's later replies until it succeeds. A reply whose channel has no transport (a webhook
 * without a reply URL) is complete once committed: it lives in the session history.
 * Thread-safe; the lanes are guarded by {@code lock}, sending happens outside it.
 */
public final class Outbox {
    private static final Logger log = LoggerFactory.getLogger(Outbox.class);

    private final Journal journal;
    private final Scheduler scheduler;
    private final RetryPolicy retryPolicy;
    private final Map<String, ReplyTransport> transports = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a lane empties, for {@link #awaitEmpty}. */
    private final Condition emptied = lock.newCondition();
    /** Per session key, the replies not yet delivered; the head is the one being sent. Guarded by lock. */
    private final Map<String, ArrayDeque<Reply>> lanes = new HashMap<>();
    private final Counter delivered;
    private final Counter failedAttempts;

    public Outbox(Journal journal, Scheduler scheduler, RetryPolicy retryPolicy, MeterRegistry metrics) {
        this.journal = journal;
        this.scheduler = scheduler;
        this.retryPolicy = retryPolicy;
        this.delivered = Counter.builder("ferry.replies.delivered").description("Replies the platform accepted")
                .register(metrics);
        this.failedAttempts = Counter.builder("ferry.delivery.failed.attempts")
                .description("Send attempts that failed and will be retried").register(metrics);
        metrics.gauge("ferry.outbox.pending", this, Outbox::pendingCount);
    }

    /** Routes a channel's replies through {@code transport}, or keeps them in history when it is null. */
    public void useTransport(String channel, ReplyTransport transport) {
        if (transport == null) {
            transports.remove(channel);
        } else {
            transports.put(channel, transport);
        }
    }

    /** Queues a committed reply for sending. */
    public void enqueue(Reply reply) {
        boolean startLane;
        lock.lock();
        try {
            ArrayDeque<Reply> lane = lanes.computeIfAbsent(reply.sessionKey(), k -> new ArrayDeque<>());
            lane.addLast(reply);
            startLane = lane.size() == 1;
        } finally {
            lock.unlock();
        }
        if (startLane) {
            attempt(reply, 0);
        }
    }

    /** Replies accepted by the outbox and not yet delivered. */
    public int pendingCount() {
        lock.lock();
        try {
            return lanes.values().stream().mapToInt(ArrayDeque::size).sum();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends the lane's head and keeps going while sends complete at once. A loop, not recursion: a long
     * lane of replies that need no network (history-only, or a transport that answers synchronously)
     * must not grow the stack.
     */
    /** Waits on a signal until every queued reply is delivered, or the timeout; true when none is left. */
    public boolean awaitEmpty(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            long left;
            while (!lanes.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
                emptied.awaitNanos(left);
            }
            return lanes.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    private void attempt(Reply reply, int failures) {
        Reply current = reply;
        int currentFailures = failures;
        while (current != null) {
            ReplyTransport transport = transports.get(current.channel());
            if (transport == null) {
                current = finish(current);
                currentFailures = 0;
                continue;
            }
            CompletableFuture<Void> sent = sendSafely(transport, current);
            if (!sent.isDone()) {
                Reply inFlight = current;
                int priorFailures = currentFailures;
                sent.whenComplete((ok, error) -> onSent(inFlight, priorFailures, error));
                return;
            }
            Throwable error = failureOf(sent);
            if (error != null) {
                scheduleRetry(current, currentFailures, error);
                return;
            }
            delivered.increment();
            current = finish(current);
            currentFailures = 0;
        }
    }

    private void onSent(Reply reply, int failures, Throwable error) {
        if (error != null) {
            scheduleRetry(reply, failures, error);
            return;
        }
        delivered.increment();
        Reply next = finish(reply);
        if (next != null) {
            attempt(next, 0);
        }
    }

    private void scheduleRetry(Reply reply, int failures, Throwable error) {
        failedAttempts.increment();
        int attempts = failures + 1;
        var delay = retryPolicy.delayAfter(attempts);
        log.warn("reply delivery failed reply={} channel={} attempt={} retryInMs={} reason={}",
                reply.replyId(), reply.channel(), attempts, delay.toMillis(), rootMessage(error));
        scheduler.schedule(delay, () -> attempt(reply, attempts));
    }

    private static CompletableFuture<Void> sendSafely(ReplyTransport transport, Reply reply) {
        try {
            return transport.send(reply);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static Throwable failureOf(CompletableFuture<Void> done) {
        try {
            done.join();
            return null;
        } catch (CompletionException | CancellationException e) {
            return e;
        }
    }

    /** Records the reply as delivered and returns the session's next reply, if any. */
    private Reply finish(Reply reply) {
        journal.markDelivered(reply.replyId()).whenComplete((ok, error) -> {
            if (error != null) {
                // The reply went out; failing to record it only risks one resend after a restart.
                log.error("could not record delivery reply={}", reply.replyId(), error);
            }
        });
        lock.lock();
        try {
            ArrayDeque<Reply> lane = lanes.get(reply.sessionKey());
            lane.removeFirst();
            Reply next = lane.peekFirst();
            if (next == null) {
                lanes.remove(reply.sessionKey());
                emptied.signalAll();
            }
            return next;
        } finally {
            lock.unlock();
        }
    }

    private static String rootMessage(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
