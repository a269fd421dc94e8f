package dev.ferry.delivery;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.events.GatewayEvent;
import dev.ferry.events.GatewayEvents;
import dev.ferry.journal.Journal;
import dev.ferry.journal.Reply;
import dev.ferry.time.DeadlineWait;
import dev.ferry.time.Scheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Sends committed replies: per session one at a time, in order; per channel at most that channel's
 * {@code maxConcurrentSends} at once; otherwise every session independently.
 *
 * <p>Each session has a lane whose head is the reply on its way. The head is in one of three places: in
 * flight (holding one of its channel's send slots), waiting in the channel's FIFO for a free slot, or waiting
 * on a retry timer, which holds no slot, so a failing receiver for one session costs the others nothing but
 * the slot its attempt takes. The platform's verdict settles the head: delivered, or refused for good (the
 * reply is marked failed in the journal, with its reason, and can be sent again with {@link #retryFailed}),
 * both of which let the lane's next reply go; or retry, after the platform's {@code Retry-After} or the
 * {@link RetryPolicy} backoff. A fault without a verdict is retried. A reply whose channel has no transport
 * (a webhook without a reply URL) is complete once committed: it lives in the session history.
 *
 * <p>Every reply committed, delivered or refused is published as an event. {@link #close} waits a moment for
 * the journal records of sends already settled, so a stop neither loses them needlessly nor logs an error
 * for a record it cut off itself.
 *
 * <p>Invariant: a channel's waiting FIFO is non-empty only while all its slots are taken. Thread-safe; lanes
 * and routes are guarded by {@code lock}; sends and journal writes happen outside it.
 */
public final class Outbox {
    private static final Logger log = LoggerFactory.getLogger(Outbox.class);
    /** A platform asking for a longer wait still gets its reply tried again within the hour. */
    private static final Duration MAX_RETRY_AFTER = Duration.ofHours(1);

    private final Journal journal;
    private final Scheduler scheduler;
    private final RetryPolicy retryPolicy;
    private final GatewayEvents events;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a lane empties or a journal record completes, for {@link #awaitEmpty} and {@link #close}. */
    private final Condition emptied = lock.newCondition();
    /** Per session key, the replies not yet settled; the head is the one on its way. */
    @GuardedBy("lock")
    private final Map<String, ArrayDeque<Reply>> lanes = new HashMap<>();
    /** Per channel, its transport and send slots; a channel never routed has none, and its replies go to history. */
    @GuardedBy("lock")
    private final Map<String, Route> routes = new HashMap<>();
    /** Per channel, the sends in flight, each holding one of its slots. */
    @GuardedBy("lock")
    private final Map<String, Integer> sending = new HashMap<>();
    /** Per channel, lane heads waiting for a free slot, oldest first. */
    @GuardedBy("lock")
    private final Map<String, ArrayDeque<Attempt>> waiting = new HashMap<>();
    /** Journal records of settled sends (delivered, failed) not yet completed. */
    @GuardedBy("lock")
    private int recording;
    /** Set by {@link #close}: a record that fails from then on was cut off by the stop, not lost by a fault. */
    private volatile boolean closing;
    private final Counter delivered;
    private final Counter failed;
    private final Counter failedAttempts;

    /** A channel's transport, or none (history only), and how many of its sends may be in flight at once. */
    private record Route(ReplyTransport transport, int maxConcurrentSends) {}

    /** A lane head and how many of its attempts have failed so far. */
    private record Attempt(Reply reply, int failures) {}

    /** An attempt cleared to go: holding a slot of {@code channel}, or with both null, bound for history. */
    private record Send(Attempt attempt, String channel, ReplyTransport transport) {}

    public Outbox(Journal journal, Scheduler scheduler, RetryPolicy retryPolicy, MeterRegistry metrics) {
        this(journal, scheduler, retryPolicy, metrics, GatewayEvents.NONE);
    }

    public Outbox(Journal journal, Scheduler scheduler, RetryPolicy retryPolicy, MeterRegistry metrics,
                  GatewayEvents events) {
        this.journal = journal;
        this.scheduler = scheduler;
        this.retryPolicy = retryPolicy;
        this.events = events;
        this.delivered = Counter.builder("ferry.replies.delivered").description("Replies the platform accepted")
                .register(metrics);
        this.failed = Counter.builder("ferry.replies.failed")
                .description("Replies the platform refused for good; listed by the replies.failed RPC").register(metrics);
        this.failedAttempts = Counter.builder("ferry.delivery.failed.attempts")
                .description("Send attempts that failed and will be retried").register(metrics);
        Gauge.builder("ferry.outbox.pending", this, Outbox::pendingCount)
                .description("Replies in the outbox not yet delivered or failed").register(metrics);
        Gauge.builder("ferry.outbox.sending", this, Outbox::sendingCount)
                .description("Sends in flight, each holding one of its channel's maxConcurrentSends slots").register(metrics);
    }

    /**
     * Routes a channel's replies through {@code transport}, at most {@code maxConcurrentSends} at once, or keeps
     * them in history when it is null. Sends in flight finish on the transport they started on.
     */
    public void useTransport(String channel, ReplyTransport transport, int maxConcurrentSends) {
        if (maxConcurrentSends < 1) {
            throw new IllegalArgumentException("maxConcurrentSends: must be >= 1, got " + maxConcurrentSends);
        }
        ArrayDeque<Send> ready = new ArrayDeque<>();
        lock.lock();
        try {
            routes.put(channel, new Route(transport, maxConcurrentSends));
            admitWaiting(channel, ready);
        } finally {
            lock.unlock();
        }
        drain(ready);
    }

    /** Queues a committed reply for sending. */
    public void enqueue(Reply reply) {
        events.publish(new GatewayEvent.ReplyCommitted(reply.sessionKey(), reply.turnId(), reply.replyId(),
                reply.channel(), reply.conversation(), reply.text(), reply.inReplyTo()));
        Send send = null;
        lock.lock();
        try {
            ArrayDeque<Reply> lane = lanes.computeIfAbsent(reply.sessionKey(), k -> new ArrayDeque<>());
            lane.addLast(reply);
            if (lane.size() == 1) {
                send = admit(new Attempt(reply, 0));
            }
        } finally {
            lock.unlock();
        }
        if (send != null) {
            drain(send);
        }
    }

    /**
     * Puts a failed reply back in the outbox, once, at the end of its session's lane; empty when the journal
     * holds no failed reply with that id.
     */
    public CompletableFuture<Optional<Reply>> retryFailed(String replyId) {
        return journal.requeueFailed(replyId).thenApply(reply -> {
            reply.ifPresent(requeued -> {
                log.info("failed reply queued again reply={} session={}", requeued.replyId(), requeued.sessionKey());
                enqueue(requeued);
            });
            return reply;
        });
    }

    /** Replies accepted by the outbox and not yet settled. */
    public int pendingCount() {
        lock.lock();
        try {
            return lanes.values().stream().mapToInt(ArrayDeque::size).sum();
        } finally {
            lock.unlock();
        }
    }

    /** Sends in flight now, over every channel. */
    public int sendingCount() {
        lock.lock();
        try {
            return sending.values().stream().mapToInt(Integer::intValue).sum();
        } finally {
            lock.unlock();
        }
    }

    /** Waits on a signal until every queued reply is settled, or the timeout; true when none is left. */
    public boolean awaitEmpty(Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            return DeadlineWait.await(scheduler, lock, emptied, timeout, this::hasNoLanes);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops treating failed journal records as faults and waits up to {@code timeout} for the records of
     * sends already settled; what is still unsent or unrecorded is sent again at the next start. Returns
     * whether every record completed.
     */
    public boolean close(Duration timeout) throws InterruptedException {
        closing = true;
        lock.lock();
        try {
            return DeadlineWait.await(scheduler, lock, emptied, timeout, this::hasNoRecordsInFlight);
        } finally {
            lock.unlock();
        }
    }

    // DeadlineWait evaluates these under the lock it was handed; the checker cannot follow a method reference.
    @SuppressWarnings("GuardedBy")
    private boolean hasNoLanes() {
        return lanes.isEmpty();
    }

    @SuppressWarnings("GuardedBy")
    private boolean hasNoRecordsInFlight() {
        return recording == 0;
    }

    /** Clears a lane head to go now, or parks it in its channel's FIFO and returns null. */
    @GuardedBy("lock")
    private Send admit(Attempt attempt) {
        String channel = attempt.reply().channel();
        Route route = routes.get(channel);
        if (route == null || route.transport() == null) {
            return new Send(attempt, null, null);
        }
        if (sending.getOrDefault(channel, 0) < route.maxConcurrentSends()) {
            sending.merge(channel, 1, Integer::sum);
            return new Send(attempt, channel, route.transport());
        }
        waiting.computeIfAbsent(channel, c -> new ArrayDeque<>()).addLast(attempt);
        return null;
    }

    /** Gives free slots to waiting lane heads, or sends them all to history once there is no transport. */
    @GuardedBy("lock")
    private void admitWaiting(String channel, ArrayDeque<Send> ready) {
        ArrayDeque<Attempt> heads = waiting.get(channel);
        Route route = routes.get(channel);
        while (heads != null && !heads.isEmpty() && (route == null || route.transport() == null
                || sending.getOrDefault(channel, 0) < route.maxConcurrentSends())) {
            ready.add(admit(heads.pollFirst()));
        }
    }

    private void drain(Send first) {
        ArrayDeque<Send> ready = new ArrayDeque<>();
        ready.add(first);
        drain(ready);
    }

    /**
     * Sends every cleared attempt, and whatever settling one clears next. A loop, not recursion: a long lane
     * of replies that settle at once (history-only, or a transport that answers synchronously) must not grow
     * the stack.
     */
    private void drain(ArrayDeque<Send> ready) {
        Send send;
        while ((send = ready.poll()) != null) {
            if (send.transport() == null) {
                record(journal.markDelivered(send.attempt().reply().replyId()), "delivery", send);
                advance(send.attempt().reply(), ready);
                continue;
            }
            CompletableFuture<SendOutcome> result = sendSafely(send);
            if (result.isDone()) {
                settle(send, result, ready);
            } else {
                Send inFlight = send;
                result.whenComplete((outcome, error) -> {
                    ArrayDeque<Send> next = new ArrayDeque<>();
                    settle(inFlight, result, next);
                    drain(next);
                });
            }
        }
    }

    /** Frees the send's slot and acts on the platform's verdict; what that clears to go is added to {@code ready}. */
    private void settle(Send send, CompletableFuture<SendOutcome> result, ArrayDeque<Send> ready) {
        SendOutcome outcome = outcomeOf(result);
        Reply reply = send.attempt().reply();
        lock.lock();
        try {
            sending.merge(send.channel(), -1, Integer::sum);
            admitWaiting(send.channel(), ready);
        } finally {
            lock.unlock();
        }
        switch (outcome.verdict()) {
            case DELIVERED -> {
                delivered.increment();
                events.publish(new GatewayEvent.ReplyDelivered(reply.sessionKey(), reply.replyId(), reply.channel(),
                        reply.conversation()));
                // The reply went out; failing to record it only risks one resend after a restart.
                record(journal.markDelivered(reply.replyId()), "delivery", send);
                advance(reply, ready);
            }
            case REFUSED -> {
                failed.increment();
                log.warn("reply refused, marked failed reply={} session={} channel={} reason={}", reply.replyId(),
                        reply.sessionKey(), reply.channel(), outcome.reason());
                events.publish(new GatewayEvent.ReplyFailed(reply.sessionKey(), reply.replyId(), reply.channel(),
                        reply.conversation(), outcome.reason()));
                record(journal.markFailed(reply.replyId(), outcome.reason()), "failure", send);
                advance(reply, ready);
            }
            case RETRY -> scheduleRetry(send.attempt(), outcome);
        }
    }

    private void scheduleRetry(Attempt attempt, SendOutcome outcome) {
        failedAttempts.increment();
        Attempt again = new Attempt(attempt.reply(), attempt.failures() + 1);
        Duration asked = outcome.retryAfter();
        Duration delay = asked == null ? retryPolicy.delayAfter(again.failures())
                : asked.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : asked;
        log.warn("reply delivery failed reply={} channel={} attempt={} retryInMs={} reason={}",
                again.reply().replyId(), again.reply().channel(), again.failures(), delay.toMillis(), outcome.reason());
        scheduler.schedule(delay, () -> {
            Send send;
            lock.lock();
            try {
                send = admit(again);
            } finally {
                lock.unlock();
            }
            if (send != null) {
                drain(send);
            }
        });
    }

    /** Takes the settled head off its lane and clears the lane's next reply to go, if any. */
    private void advance(Reply settled, ArrayDeque<Send> ready) {
        lock.lock();
        try {
            ArrayDeque<Reply> lane = lanes.get(settled.sessionKey());
            lane.removeFirst();
            Reply next = lane.peekFirst();
            if (next == null) {
                lanes.remove(settled.sessionKey());
                emptied.signalAll();
                return;
            }
            Send send = admit(new Attempt(next, 0));
            if (send != null) {
                ready.add(send);
            }
        } finally {
            lock.unlock();
        }
    }

    private static CompletableFuture<SendOutcome> sendSafely(Send send) {
        try {
            return send.transport().send(send.attempt().reply());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The verdict of a settled send; a fault without one is a retry with its root cause as the reason. */
    private static SendOutcome outcomeOf(CompletableFuture<SendOutcome> done) {
        try {
            return done.join();
        } catch (CompletionException | CancellationException e) {
            return SendOutcome.retry(rootMessage(e), null);
        }
    }

    /** Counts the record until it completes, so {@link #close} can wait for it. */
    private void record(CompletableFuture<Void> write, String what, Send send) {
        lock.lock();
        try {
            recording++;
        } finally {
            lock.unlock();
        }
        write.whenComplete(recorded(what, send));
    }

    private BiConsumer<Void, Throwable> recorded(String what, Send send) {
        return (ok, error) -> {
            lock.lock();
            try {
                recording--;
                emptied.signalAll();
            } finally {
                lock.unlock();
            }
            if (error == null) {
                return;
            }
            String replyId = send.attempt().reply().replyId();
            if (closing) {
                // The stop closed the journal under this record: work it ordered itself, not a fault.
                log.info("reply {} not recorded before the stop reply={}; it is sent again at the next start", what, replyId);
            } else {
                log.error("could not record reply {} reply={}", what, replyId, error);
            }
        };
    }

    private static String rootMessage(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
