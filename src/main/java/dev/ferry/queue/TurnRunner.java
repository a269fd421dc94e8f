package dev.ferry.queue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.AgentFailure;
import dev.ferry.agent.AgentRequest;
import dev.ferry.agent.AgentRun;
import dev.ferry.agent.TurnObserver;
import dev.ferry.delivery.Outbox;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.events.GatewayEvent.TurnOutcome;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalUnavailableException;
import dev.ferry.journal.LeaseLostException;
import dev.ferry.journal.Turn;
import dev.ferry.time.Scheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Runs one session's turn from its slot to its end: fixes its inputs in the journal (waiting out a journal
 * that cannot take writes, with backoff), runs the backend, then commits the reply and hands it to the
 * outbox, or retries a failed attempt after a backoff as the same turn with the same reply id, or ends an
 * aborted turn (superseded with its reason journaled, or parked for a reload). It never ends a turn
 * without telling the scheduler, which releases the slot. Thread-safe: it keeps no state of its own; it
 * changes a session's phase only with the scheduler's lock held, and runs the agent and journal outside it.
 */
final class TurnRunner {
    private static final Logger log = LoggerFactory.getLogger(TurnRunner.class);

    private final ReentrantLock lock;
    private final Journal journal;
    private final Outbox outbox;
    private final Scheduler scheduler;
    private final Executor executor;
    private final RetryPolicy retryPolicy;
    private final QueueEvents events;
    /** Told when a turn is over and its slot is free. */
    private final Consumer<SessionQueue> finished;
    /** Where a turn aborted for a reload parks while turns are paused. */
    private final TurnSlots slots;
    private volatile AgentBackend backend;
    private volatile TurnSettings settings;

    private final AgentErrors errors;
    private final Counter turnsCompleted;
    private final Counter turnsFailed;
    private final Counter turnsSuperseded;
    private final Timer turnDuration;

    TurnRunner(ReentrantLock lock, Journal journal, AgentBackend backend, Outbox outbox, TurnSettings settings,
               Scheduler scheduler, Executor executor, RetryPolicy retryPolicy, MeterRegistry metrics,
               QueueEvents events, TurnSlots slots, Consumer<SessionQueue> finished) {
        this.lock = lock;
        this.journal = journal;
        this.backend = backend;
        this.outbox = outbox;
        this.settings = settings;
        this.scheduler = scheduler;
        this.executor = executor;
        this.retryPolicy = retryPolicy;
        this.events = events;
        this.finished = finished;
        this.slots = slots;
        this.errors = new AgentErrors(metrics);
        this.turnsCompleted = Counter.builder("ferry.turns.completed")
                .description("Turns whose reply was committed to the journal").register(metrics);
        this.turnsFailed = Counter.builder("ferry.turns.failed")
                .description("Turn attempts that failed and will be retried").register(metrics);
        this.turnsSuperseded = Counter.builder("ferry.turns.superseded")
                .description("Turns aborted by an interrupt or /stop; their messages are superseded").register(metrics);
        this.turnDuration = Timer.builder("ferry.turn.duration")
                .description("Time from a turn's start to its committed reply").register(metrics);
    }

    void useBackend(AgentBackend newBackend) {
        this.backend = newBackend;
    }

    void useSettings(TurnSettings newSettings) {
        this.settings = newSettings;
    }

    TurnSettings settings() {
        return settings;
    }

    AgentErrors errors() {
        return errors;
    }

    /**
     * What journals a message steered into the running turn, to run after the scheduler's lock is released.
     * The journal adds the message to the turn as it stood; handing it the joined turn would add it twice.
     */
    Runnable recordJoin(Turn before, InboundMessage message) {
        return () -> journal.joinTurn(before, message).whenComplete((turn, error) -> {
            if (error != null) {
                log.error("could not record steered message session={} seq={}", before.sessionKey(), message.seq(),
                        error);
            }
        });
    }

    /** Starts the turn a session took a slot for (phase STARTING); a replayed turn is in the journal already. */
    void begin(SessionQueue queue, TurnInput input) {
        if (input.replayed() != null) {
            run(queue, input.replayed(), 0);
        } else {
            start(queue, input, 0);
        }
    }

    /**
     * Fixes the turn's inputs in the journal, then runs it. A journal that cannot take writes for now (a
     * full disk) is waited out with backoff, the session still busy so that its later items stay behind:
     * dropping the input here would leave acknowledged messages unanswered until a restart.
     */
    private void start(SessionQueue queue, TurnInput input, int failures) {
        // Async on the turn executor: the journal's completion thread must stay free for acknowledgements.
        journal.startTurn(queue.sessionKey, input.messages(), input.prompt()).whenCompleteAsync((turn, error) -> {
            if (error == null) {
                run(queue, turn, 0);
            } else if (JournalUnavailableException.findIn(error).isPresent()) {
                int attempts = failures + 1;
                Duration delay = retryPolicy.delayAfter(attempts);
                log.warn("journal unavailable; turn start retried session={} firstSeq={} attempt={} retryInMs={}",
                        queue.sessionKey, input.messages().get(0).seq(), attempts, delay.toMillis());
                scheduler.schedule(delay, () -> executor.execute(() -> start(queue, input, attempts)));
            } else if (LeaseLostException.findIn(error).isPresent()) {
                // A shared journal: another gateway holds the session, and runs these messages itself.
                log.info("turn left to the gateway holding the session session={} firstSeq={}", queue.sessionKey,
                        input.messages().get(0).seq());
                finished.accept(queue);
            } else {
                // The journal refused the turn's inputs: running it anyway could answer a message twice.
                log.error("could not start turn session={} firstSeq={}", queue.sessionKey,
                        input.messages().get(0).seq(), error);
                finished.accept(queue);
            }
        }, executor);
    }

    /** Ends the turn as aborted, and answers true, when an abort is pending for its session. */
    private boolean endedByAbort(SessionQueue queue, Turn turn) {
        AbortCause cause;
        lock.lock();
        try {
            cause = queue.abortCause();
        } finally {
            lock.unlock();
        }
        if (cause == AbortCause.NONE) {
            return false;
        }
        endAborted(queue, turn, cause);
        return true;
    }

    /** Runs the journaled turn on the backend (phase STARTING), unless an abort came while it was being prepared. */
    void run(SessionQueue queue, Turn turn, int failures) {
        if (endedByAbort(queue, turn)) {
            // Superseded or parked before the agent saw it: no run to start and abort.
            return;
        }
        long startedAt = scheduler.nowMillis();
        TurnSettings current = settings;
        if (failures > 0) {
            // What the failed attempt streamed is void: this one streams the reply from its start.
            events.restarted(turn);
        }
        events.started(turn);
        InboundMessage last = turn.lastMessage();
        var request = new AgentRequest(turn.sessionKey(), current.systemPrompt(),
                backend.readsHistory() ? journal.transcript(turn.sessionKey(), current.historyTurns()) : List.of(),
                turn.prompt(), new TurnObserver() {
                    @Override
                    public void onText(String delta) {
                        events.delta(turn, delta);
                    }

                    @Override
                    public void onRestart() {
                        events.restarted(turn);
                    }
                }, last.channel(), last.conversation());
        AgentRun run;
        try {
            run = backend.start(request);
        } catch (RuntimeException e) {
            run = failedRun(e);
        }
        boolean abortNow;
        lock.lock();
        try {
            abortNow = !queue.running(turn, run);
        } finally {
            lock.unlock();
        }
        if (abortNow) {
            run.abort();
        }
        run.reply().whenComplete((text, error) -> onReply(queue, text, error, failures, startedAt));
    }

    private void onReply(SessionQueue queue, String text, Throwable error, int failures, long startedAt) {
        Turn turn;
        AbortCause cause;
        lock.lock();
        try {
            turn = queue.turn();
            cause = queue.abortCause();
            // Steering ends with the reply: a later message must not join a turn that has answered.
            queue.replied();
        } finally {
            lock.unlock();
        }
        if (error == null) {
            journal.completeTurn(turn, text).whenCompleteAsync((reply, commitError) -> {
                if (commitError != null) {
                    retry(queue, turn, failures, commitError);
                    return;
                }
                turnDuration.record(Duration.ofMillis(scheduler.nowMillis() - startedAt));
                turnsCompleted.increment();
                // Before the outbox has it: a subscriber sees the turn end before its reply is committed as sent.
                events.ended(turn, TurnOutcome.REPLIED, null);
                outbox.enqueue(reply);
                finished.accept(queue);
            }, executor);
            return;
        }
        if (cause != AbortCause.NONE) {
            endAborted(queue, turn, cause);
            return;
        }
        retry(queue, turn, failures, error);
    }

    /**
     * A failed attempt runs again after a backoff, the session's later items waiting, until its failure
     * ends the turn ({@link AgentErrors}): then it is answered with an error reply. An aborting turn ends instead.
     */
    private void retry(SessionQueue queue, Turn turn, int failures, Throwable error) {
        if (LeaseLostException.findIn(error).isPresent()) {
            abandon(queue, turn, error);
            return;
        }
        int attempts = failures + 1;
        if (errors.endsTheTurn(error, attempts) && !JournalUnavailableException.findIn(error).isPresent()) {
            answerWithError(queue, turn, error, attempts);
            return;
        }
        Duration delay = retryPolicy.delayAfter(attempts);
        if (!backOff(queue, turn, attempts, delay)) {
            return;
        }
        turnsFailed.increment();
        log.warn("turn failed session={} turn={} attempt={} retryInMs={} reason={}",
                turn.sessionKey(), turn.id(), attempts, delay.toMillis(), error.toString());
        events.ended(turn, TurnOutcome.FAILED, error.toString());
    }

    /**
     * Ends the turn with a short error reply, in one journal commit that settles its messages (answered,
     * with an error) outside the transcript; delivered like any reply. A commit that fails is retried as a
     * failed attempt.
     */
    private void answerWithError(SessionQueue queue, Turn turn, Throwable error, int attempts) {
        if (endedByAbort(queue, turn)) {
            return;
        }
        String reason = errors.reasonFor(error);
        AgentFailure failure = AgentErrors.failureIn(error);
        String said = failure != null ? failure.getMessage() : error.toString();
        if (errors.sameAsLast(error)) {
            log.warn("turn answered with an error again session={} turn={} reason={}", turn.sessionKey(), turn.id(), reason);
        } else {
            log.error("turn answered with an error after {} attempt(s) session={} turn={} reason={} error={}", attempts,
                    turn.sessionKey(), turn.id(), reason, said);
        }
        journal.failTurn(turn, errors.replyFor(error), reason).whenCompleteAsync((reply, commitError) -> {
            if (LeaseLostException.findIn(commitError).isPresent()) {
                abandon(queue, turn, commitError);
                return;
            }
            if (commitError != null) {
                // The turn waits and runs again, as a failed attempt does.
                log.error("could not record the error reply session={} turn={}", turn.sessionKey(), turn.id(), commitError);
                backOff(queue, turn, attempts, retryPolicy.delayAfter(attempts));
                return;
            }
            errors.answered(error, turn.id(), turn.sessionKey());
            events.ended(turn, TurnOutcome.FAILED, reason);
            outbox.enqueue(reply);
            finished.accept(queue);
        }, executor);
    }

    /**
     * Schedules the turn's next attempt after {@code delay}, its session still busy; or, when an abort came
     * meanwhile, ends the turn as aborted and answers false.
     */
    private boolean backOff(SessionQueue queue, Turn turn, int attempts, Duration delay) {
        AbortCause cause;
        lock.lock();
        try {
            cause = queue.abortCause();
            if (cause == AbortCause.NONE) {
                queue.backOff(turn, scheduler.schedule(delay, () -> executor.execute(() -> retryTurn(queue, turn, attempts))));
            }
        } finally {
            lock.unlock();
        }
        if (cause != AbortCause.NONE) {
            endAborted(queue, turn, cause);
            return false;
        }
        return true;
    }

    /** Runs a failed turn again, unless an abort claimed it while it waited. */
    private void retryTurn(SessionQueue queue, Turn turn, int failures) {
        lock.lock();
        try {
            if (!queue.claimRetry()) {
                return;
            }
        } finally {
            lock.unlock();
        }
        run(queue, turn, failures);
    }

    /** A turn ended on purpose: parked for a reload, or superseded (interrupt, /stop) with its reason journaled. */
    void endAborted(SessionQueue queue, Turn turn, AbortCause cause) {
        if (cause.parks()) {
            park(queue, turn);
            return;
        }
        turnsSuperseded.increment();
        String reason = cause.journalReason();
        log.info("turn superseded session={} turn={} reason={}", turn.sessionKey(), turn.id(), reason);
        int queued;
        lock.lock();
        try {
            queue.supersededTotal += turn.messages().size();
            queued = queue.followups.size();
        } finally {
            lock.unlock();
        }
        journal.supersedeTurn(turn, reason).whenComplete((ok, commitError) -> {
            if (commitError != null) {
                log.error("could not record superseded turn session={} turn={}", turn.sessionKey(), turn.id(),
                        commitError);
            }
            events.ended(turn, TurnOutcome.SUPERSEDED, reason);
            events.dropped(turn.sessionKey(), turn.messages(), reason, queued);
            finished.accept(queue);
        });
    }

    /**
     * Gives the turn up without committing anything: on a shared journal this gateway's lease on the session
     * ended (it stalled, or could not renew), and the gateway that took the session over runs the same turn.
     */
    private void abandon(SessionQueue queue, Turn turn, Throwable why) {
        log.warn("turn abandoned, its session's lease is lost session={} turn={} reason={}", turn.sessionKey(), turn.id(),
                LeaseLostException.findIn(why).map(Throwable::getMessage).orElse(why.toString()));
        events.ended(turn, TurnOutcome.PARKED, "lease lost");
        finished.accept(queue);
    }

    /**
     * Not a supersede: the turn keeps its slot, messages and reply id, and runs again as the same turn when
     * turns resume, or at once if they already have.
     */
    private void park(SessionQueue queue, Turn turn) {
        events.ended(turn, TurnOutcome.PARKED, AbortCause.RELOAD.journalReason());
        boolean runAgainNow;
        lock.lock();
        try {
            runAgainNow = !slots.parkIfPaused(queue);
            if (runAgainNow) {
                queue.unpark();
            } else {
                queue.park(turn);
            }
        } finally {
            lock.unlock();
        }
        log.info("turn parked; it runs again as the same turn after the reload, or at the next start session={} turn={}", turn.sessionKey(), turn.id());
        if (runAgainNow) {
            executor.execute(() -> run(queue, turn, 0));
        }
    }

    private static AgentRun failedRun(RuntimeException error) {
        CompletableFuture<String> failed = CompletableFuture.failedFuture(error);
        return new AgentRun() {
            @Override
            public CompletableFuture<String> reply() {
                return failed;
            }

            @Override
            public void abort() {
                // Nothing is running.
            }
        };
    }
}
