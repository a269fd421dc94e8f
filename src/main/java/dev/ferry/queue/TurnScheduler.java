package dev.ferry.queue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.agent.AgentBackend;
import dev.ferry.config.QueueConfig;
import dev.ferry.config.QueueOverride;
import dev.ferry.config.QueueSettings;
import dev.ferry.delivery.Outbox;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.events.GatewayEvents;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.Turn;
import dev.ferry.time.DeadlineWait;
import dev.ferry.time.Scheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The followup queues and the turn scheduler (SPEC 3.2). Per session one turn at a time, in arrival
 * order; across sessions at most {@code maxConcurrent} turns, sessions waiting for a slot served first
 * come, first served. A batch for an idle session runs at once; one that arrives while the session is
 * busy is admitted by {@link FollowupPolicy} per the session's queue mode, and a queue drains after
 * {@code debounceMs} of quiet, or at the latest {@code maxWaitMs} after its oldest queued item.
 * Nothing leaves a queue silently: {@link DropRecorder} accounts for drops, {@link TurnRunner} for
 * supersedes. A failed turn runs again (same turn, same reply id) after a backoff, with the session's
 * later items waiting behind it.
 * <p>
 * The parts: each session is a {@link SessionQueue} (its {@link TurnPhase} and {@link FollowupQueue});
 * {@link TurnSlots} holds the slots and the line for them; {@link TurnRunner} takes a turn from its slot
 * to its end; {@link QueueDirectives} keeps the {@code /queue} settings. This class applies admissions,
 * drains queues, hands out slots, and answers status, drain and reload requests.
 * <p>
 * Thread-safe; every session is guarded by {@code lock}, which the runner shares (the slots and the
 * directives have locks of their own, always taken after it); agent runs, journal writes and events
 * happen outside it.
 */
public final class TurnScheduler {
    private final Scheduler scheduler;
    private final Executor executor;
    private final QueueEvents events;
    private final QueueDirectives directives;
    private final DropRecorder drops;
    private final TurnRunner runner;
    private final Counter steered;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled whenever a queue, a slot or a phase that a waiter reads changes. */
    private final Condition changed = lock.newCondition();
    /** Sessions with something going on; insertion order keeps {@code status} stable. */
    @GuardedBy("lock")
    private final Map<String, SessionQueue> sessions = new LinkedHashMap<>();
    private final TurnSlots slots;

    public TurnScheduler(Journal journal, AgentBackend backend, Outbox outbox, TurnSettings settings,
                         QueueConfig queueConfig, Scheduler scheduler, Executor executor, RetryPolicy retryPolicy,
                         MeterRegistry metrics, GatewayEvents events) {
        this.scheduler = scheduler;
        this.executor = executor;
        this.events = new QueueEvents(events);
        this.directives = new QueueDirectives(journal, queueConfig);
        this.drops = new DropRecorder(journal, outbox, scheduler, metrics, this.events, directives);
        this.slots = new TurnSlots(scheduler);
        this.runner = new TurnRunner(lock, journal, backend, outbox, settings, scheduler, executor, retryPolicy,
                metrics, this.events, slots, this::finishTurn);
        this.steered = Counter.builder("ferry.queue.steered")
                .description("Messages injected into a running turn").register(metrics);
        Gauge.builder("ferry.turns.running", this, TurnScheduler::runningTurns)
                .description("Turns running now, across all sessions").register(metrics);
        Gauge.builder("ferry.queue.depth", this, TurnScheduler::queuedItems)
                .description("Batches waiting in followup queues, across all sessions").register(metrics);
    }

    // ---- intake side -------------------------------------------------------------------------------

    /** Takes a batch for a session: it runs now if the session is idle, else per the session's queue mode. */
    public void submit(String sessionKey, List<InboundMessage> batch) {
        if (batch.isEmpty()) {
            return;
        }
        long now = scheduler.nowMillis();
        List<Runnable> afterUnlock = new ArrayList<>(2);
        lock.lock();
        try {
            SessionQueue queue = sessionOf(sessionKey);
            queue.channel = batch.get(batch.size() - 1).channel();
            QueuedItem item = new QueuedItem(batch, queue.phase() != TurnPhase.IDLE, now);
            QueueSettings current = settingsOf(queue, queue.channel);
            admit(queue, item, current, afterUnlock);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        afterUnlock.forEach(Runnable::run);
        startReadyTurns();
    }

    /**
     * Queues a turn the journal holds from before a restart, to run again as the same turn (same reply
     * id) ahead of anything submitted after it. Used only while the gateway starts.
     */
    public void replay(Turn turn) {
        lock.lock();
        try {
            SessionQueue queue = sessionOf(turn.sessionKey());
            queue.channel = turn.lastMessage().channel();
            queue.followups.addForSlot(new QueuedItem(turn.messages(), false, turn, scheduler.nowMillis()));
            markReady(queue);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        startReadyTurns();
    }

    /** Applies {@link FollowupPolicy}'s admission; the effects outside the queue go to {@code afterUnlock}. */
    @GuardedBy("lock")
    private void admit(SessionQueue queue, QueuedItem item, QueueSettings current, List<Runnable> afterUnlock) {
        SessionQueue.Admitted admitted = queue.admit(item, current, runner);
        Admission admission = admitted.admission();
        String key = queue.sessionKey;
        int depth = queue.followups.size();
        if (admission.steered()) {
            steered.increment();
            afterUnlock.add(() -> events.steered(key, item.messages(), depth));
        }
        if (!admitted.dropped().isEmpty()) {
            afterUnlock.add(() -> drops.capDrops(key, admitted.dropped(), current.drop(), depth));
        }
        if (admission.queues()) {
            afterUnlock.add(() -> events.queued(key, item.messages(), depth));
        }
        // Last: aborting the interrupted turn may end it, and start the next, on this very thread.
        afterUnlock.add(admitted.effects());
        if (admission.outcome() == Admission.Outcome.RUNS_NOW) {
            markReady(queue);
        } else if (queue.phase() == TurnPhase.DEBOUNCING) {
            scheduleDrain(queue, current, false);
        }
    }

    // ---- chat commands --------------------------------------------------------------------------------

    /** Aborts the session's running turn and clears its queue; what was cleared is journaled as dropped. */
    public StopReport stop(String sessionKey) {
        SessionQueue.Stopped stopped;
        lock.lock();
        try {
            SessionQueue queue = sessions.get(sessionKey);
            if (queue == null) {
                return new StopReport(false, 0);
            }
            stopped = queue.stop(runner);
            forgetIfIdle(queue);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        stopped.abort().run();
        drops.stopped(sessionKey, stopped.cleared());
        return new StopReport(stopped.abortedTurn(), FollowupQueue.messageCount(stopped.cleared()));
    }

    /**
     * Changes a session's {@code /queue} settings: {@code change} gets the stored ones (null if none) and
     * returns the new ones, where null or empty clears them. They apply from the next message on, before the
     * journal commits them; quick changes build on each other and are journaled in the order made.
     *
     * @return the save, complete once the journal committed it
     */
    public CompletableFuture<Void> changeDirective(String sessionKey, UnaryOperator<QueueOverride> change) {
        return directives.change(sessionKey, change);
    }

    /** The settings that apply to the session's next message on {@code channel}. */
    public QueueSettings settingsFor(String sessionKey, String channel) {
        return directives.settingsFor(sessionKey, channel);
    }

    // ---- status and drain -------------------------------------------------------------------------------

    public Optional<SessionQueueStatus> status(String sessionKey) {
        lock.lock();
        try {
            return Optional.ofNullable(sessions.get(sessionKey)).map(this::statusOf);
        } finally {
            lock.unlock();
        }
    }

    public List<SessionQueueStatus> snapshot() {
        lock.lock();
        try {
            return sessions.values().stream().map(this::statusOf).toList();
        } finally {
            lock.unlock();
        }
    }

    private SessionQueueStatus statusOf(SessionQueue queue) {
        return queue.status(settingsOf(queue, queue.channel));
    }

    /** The last turn answered with an error reply, for {@code status}; empty when none was. */
    public Optional<LastAgentError> lastAgentError() {
        return Optional.ofNullable(runner.errors().last());
    }

    /** Turns answered with an error reply since start. */
    public long errorReplies() {
        return runner.errors().answeredCount();
    }

    public int runningTurns() {
        return slots.held();
    }

    public int queuedItems() {
        lock.lock();
        try {
            return sessions.values().stream().mapToInt(queue -> queue.followups.size()).sum();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every followup queue is empty and idle, or the timeout on the scheduler's clock. Returns at
     * once when nothing is pending. Woken by queue changes, never by polling.
     */
    public DrainReport waitForFollowupQueueDrain(Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            DeadlineWait.await(scheduler, lock, changed, timeout, () -> remaining() == 0);
            int remaining = remaining();
            return new DrainReport(remaining == 0, remaining);
        } finally {
            lock.unlock();
        }
    }

    /** SPEC 3.2's remaining count. Locks, reentrantly, since the deadline wait also asks from its condition loop. */
    private int remaining() {
        lock.lock();
        try {
            return sessions.values().stream().mapToInt(queue -> queue.followups.remaining()).sum();
        } finally {
            lock.unlock();
        }
    }

    // ---- reload and stop (SPEC 3.3) ------------------------------------------------------------------------

    /** True when some followup queue holds items or is still draining (dropped-unsummarised implies items). */
    public boolean hasQueuedFollowups() {
        return remaining() > 0;
    }

    /** Marks draining: no new turn starts until {@link #resume()}; submissions are still queued. */
    public void pause() {
        slots.pause();
    }

    /** Waits on a signal until no turn is running (parked ones are not), or the timeout; true when none is. */
    public boolean awaitNoRunningTurns(Duration timeout) throws InterruptedException {
        return slots.awaitOnlyParked(timeout);
    }

    /**
     * Aborts every running turn without superseding it: each keeps its slot, its messages and its reply
     * id, and runs again as the same turn on {@link #resume()}. Returns how many it aborted.
     */
    public int parkRunningTurns() {
        List<Runnable> toAbort = new ArrayList<>();
        lock.lock();
        try {
            for (SessionQueue queue : sessions.values()) {
                if (queue.phase().isParkable()) {
                    toAbort.add(queue.abort(AbortCause.RELOAD, runner));
                }
            }
        } finally {
            lock.unlock();
        }
        toAbort.forEach(Runnable::run);
        return toAbort.size();
    }

    /** Clears draining: parked turns run again, then waiting queues start in order. */
    public void resume() {
        List<Runnable> again = new ArrayList<>();
        lock.lock();
        try {
            for (SessionQueue queue : slots.unparkAll()) {
                queue.unpark();
                Turn turn = queue.turn();
                again.add(() -> runner.run(queue, turn, 0));
            }
        } finally {
            lock.unlock();
        }
        again.forEach(executor::execute);
        startReadyTurns();
    }

    // ---- settings ------------------------------------------------------------------------------------------

    public void useBackend(AgentBackend newBackend) {
        runner.useBackend(newBackend);
    }

    public void useSettings(TurnSettings newSettings) {
        runner.useSettings(newSettings);
        startReadyTurns();
    }

    public void useQueueConfig(QueueConfig newQueueConfig) {
        directives.useConfig(newQueueConfig);
    }

    // ---- draining queues and handing out slots -------------------------------------------------------------

    @GuardedBy("lock")
    private SessionQueue sessionOf(String sessionKey) {
        return sessions.computeIfAbsent(sessionKey, SessionQueue::new);
    }

    private QueueSettings settingsOf(SessionQueue queue, String channel) {
        return directives.settingsFor(queue.sessionKey, channel);
    }

    /** The settings for the queue's head item, which decide how it drains. */
    private QueueSettings headSettings(SessionQueue queue) {
        return settingsOf(queue, queue.followups.head().lastMessage().channel());
    }

    @GuardedBy("lock")
    private void markReady(SessionQueue queue) {
        if (queue.toReady()) {
            slots.line(queue);
        }
    }

    /**
     * Drains when the queue's bound is due ({@link FollowupQueue#drainDueAt}), at once after an interrupt;
     * otherwise debounces with a timer, which re-checks when it fires since the window may have moved.
     */
    @GuardedBy("lock")
    private void scheduleDrain(SessionQueue queue, QueueSettings current, boolean immediately) {
        if (queue.drainOrDebounce(current, immediately, scheduler, () -> drainTimerFired(queue))) {
            slots.line(queue);
        }
    }

    private void drainTimerFired(SessionQueue queue) {
        lock.lock();
        try {
            if (queue.phase() == TurnPhase.DEBOUNCING) {
                queue.endDebounce();
                if (!queue.followups.isEmpty()) {
                    scheduleDrain(queue, headSettings(queue), false);
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        startReadyTurns();
    }

    private void startReadyTurns() {
        List<Runnable> starts = new ArrayList<>();
        lock.lock();
        try {
            int maxConcurrent = runner.settings().maxConcurrent();
            for (SessionQueue queue = slots.takeNext(maxConcurrent); queue != null; queue = slots.takeNext(maxConcurrent)) {
                TurnInput input = queue.followups.isEmpty() ? null : queue.followups.takeNext(headSettings(queue).mode());
                if (input == null) {
                    slots.release();
                    queue.leaveLine();
                    forgetIfIdle(queue);
                    continue;
                }
                queue.takeSlot();
                SessionQueue starting = queue;
                starts.add(() -> runner.begin(starting, input));
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        // On the executor: a backend that answers at once would otherwise chain every queued turn onto this stack.
        starts.forEach(executor::execute);
    }

    /** The runner's report that a turn is over: the slot is free and the session's next item drains. */
    private void finishTurn(SessionQueue queue) {
        lock.lock();
        try {
            // An interrupt asked for the new message to run at once, not after the queue debounce.
            boolean interrupted = queue.abortCause() == AbortCause.INTERRUPT;
            slots.release();
            queue.endTurn();
            QueuedItem head = queue.followups.head();
            if (head == null) {
                queue.followups.endDrain();
                forgetIfIdle(queue);
            } else if (head.queued()) {
                scheduleDrain(queue, headSettings(queue), interrupted);
            } else {
                markReady(queue);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        startReadyTurns();
    }

    /** Keeps the map to sessions with something going on; a directive is kept apart. */
    @GuardedBy("lock")
    private void forgetIfIdle(SessionQueue queue) {
        if (queue.isIdle()) {
            sessions.remove(queue.sessionKey, queue);
        }
    }
}
