package dev.ferry.queue;

import java.time.Duration;
import java.util.List;

import dev.ferry.agent.AgentRun;
import dev.ferry.config.QueueSettings;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Turn;
import dev.ferry.time.Scheduler;

/**
 * One session: its followup queue and where its turn is. The turn's whole state is one {@link TurnPhase}
 * and, while {@link TurnPhase#ABORTING}, one {@link AbortCause}; the phase also says what the one timer is
 * for (the drain timer while {@code DEBOUNCING}, the retry timer while {@code BACKING_OFF}). Every change of
 * phase goes through a method here, so the transitions of {@link TurnPhase}'s table are all in one file.
 * Not thread-safe: only {@link TurnScheduler} and its {@link TurnRunner} touch it, always holding the
 * scheduler's lock (the lock's {@code @GuardedBy} is on the scheduler's map of sessions, since a lock of
 * another object cannot be named on these fields).
 */
final class SessionQueue {

    private static final Scheduler.Cancellable NO_TIMER = () -> {};

    final String sessionKey;
    final FollowupQueue followups = new FollowupQueue();

    private TurnPhase phase = TurnPhase.IDLE;
    private AbortCause abortCause = AbortCause.NONE;
    private Scheduler.Cancellable timer = NO_TIMER;
    /** The turn in hand from the journal's start until it ends; steering may replace it by a larger one. */
    private Turn turn;
    /** The backend's run while {@code RUNNING} (and {@code ABORTING} from there). */
    private AgentRun run;

    /** The channel of the session's latest message: whose queue settings apply while the queue is empty. */
    String channel;
    long supersededTotal;

    SessionQueue(String sessionKey) {
        this.sessionKey = sessionKey;
    }

    TurnPhase phase() {
        return phase;
    }

    AbortCause abortCause() {
        return abortCause;
    }

    Turn turn() {
        return turn;
    }

    /**
     * What admitting a batch did here: the admission, what the cap dropped, and what must run once the
     * scheduler's lock is released (aborting the interrupted turn, journaling a steered message).
     */
    record Admitted(Admission admission, List<QueuedItem> dropped, Runnable effects) {}

    /** What {@code /stop} did here: the cleared items, whether a turn was aborted, and what ends it. */
    record Stopped(List<QueuedItem> cleared, boolean abortedTurn, Runnable abort) {}

    /**
     * Admits a batch per {@link FollowupPolicy}: offers it to the running turn when the mode steers, then
     * queues it, refuses it, or lines up an idle session (the scheduler then marks it ready).
     */
    Admitted admit(QueuedItem item, QueueSettings current, TurnRunner runner) {
        boolean steerTaken = FollowupPolicy.offersSteer(current.mode(), phase, item, turn) && run.steer(item.text());
        Admission admission = FollowupPolicy.admit(phase, current, followups.queuedCount(), steerTaken);
        switch (admission.outcome()) {
            case RUNS_NOW -> {
                followups.addForSlot(item);
                return new Admitted(admission, List.of(), () -> {});
            }
            case STEERED -> {
                InboundMessage message = item.messages().get(0);
                Turn before = turn;
                turn = before.including(message);
                return new Admitted(admission, List.of(), runner.recordJoin(before, message));
            }
            default -> {
                Runnable interrupt = admission.interruptsTurn() ? abort(AbortCause.INTERRUPT, runner) : () -> {};
                return new Admitted(admission, followups.admit(item, admission, current), interrupt);
            }
        }
    }

    /** Clears the queue and, when a turn is in hand, aborts it; a session left without a turn ends its drain. */
    Stopped stop(TurnRunner runner) {
        List<QueuedItem> cleared = followups.clear();
        endDebounce();
        boolean aborting = phase.isAbortable();
        Runnable abort = aborting ? abort(AbortCause.STOP, runner) : () -> {};
        if (!phase.holdsSlot()) {
            followups.endDrain();
        }
        return new Stopped(cleared, aborting, abort);
    }

    SessionQueueStatus status(QueueSettings settings) {
        return new SessionQueueStatus(sessionKey, settings, followups.size(), followups.isDraining(),
                phase.holdsSlot(), followups.droppedTotal(), supersededTotal);
    }

    /** Nothing here that a later message would need: the session may be forgotten. */
    boolean isIdle() {
        return phase == TurnPhase.IDLE && followups.isSettled();
    }

    // ---- waiting for a turn -------------------------------------------------------------------------

    /**
     * IDLE or DEBOUNCING with followups queued: → READY when the drain is due, or {@code immediately}; else
     * → DEBOUNCING with a drain timer (replacing an earlier one) that runs {@code recheck} when it is due.
     * True when the session became READY.
     */
    boolean drainOrDebounce(QueueSettings settings, boolean immediately, Scheduler scheduler, Runnable recheck) {
        long due = followups.drainDueAt(settings);
        long now = scheduler.nowMillis();
        if (immediately || now >= due) {
            return toReady();
        }
        cancelTimer();
        phase = TurnPhase.DEBOUNCING;
        timer = scheduler.schedule(Duration.ofMillis(due - now), recheck);
        return false;
    }

    /** IDLE or DEBOUNCING → READY; false when the session is already in line or holds a slot. */
    boolean toReady() {
        if (phase != TurnPhase.IDLE && phase != TurnPhase.DEBOUNCING) {
            return false;
        }
        cancelTimer();
        phase = TurnPhase.READY;
        return true;
    }

    /** DEBOUNCING → IDLE, for the drain timer that fired or for {@code /stop}; the caller decides what follows. */
    void endDebounce() {
        if (phase == TurnPhase.DEBOUNCING) {
            cancelTimer();
            phase = TurnPhase.IDLE;
        }
    }

    /** READY → STARTING: a slot is taken. */
    void takeSlot() {
        phase = TurnPhase.STARTING;
    }

    /** READY → IDLE: the slot came, but {@code /stop} had emptied the queue meanwhile. */
    void leaveLine() {
        phase = TurnPhase.IDLE;
    }

    // ---- a turn in progress --------------------------------------------------------------------------

    /**
     * STARTING → RUNNING with the backend's run, unless an abort came first; then the run must be aborted
     * at once and false is returned. A retried turn keeps the larger turn a steered message made.
     */
    boolean running(Turn started, AgentRun startedRun) {
        if (turn == null || turn.id() != started.id()) {
            turn = started;
        }
        run = startedRun;
        if (phase == TurnPhase.ABORTING) {
            return false;
        }
        phase = TurnPhase.RUNNING;
        return true;
    }

    /** The run steered into, while RUNNING. */
    AgentRun run() {
        return run;
    }

    /** RUNNING → COMPLETING: the run has answered, so nothing more may be steered into it. */
    void replied() {
        run = null;
        if (phase == TurnPhase.RUNNING) {
            phase = TurnPhase.COMPLETING;
        }
    }

    /** COMPLETING or RUNNING → BACKING_OFF with the retry timer; an aborting turn is ended instead, never retried. */
    void backOff(Turn failed, Scheduler.Cancellable retryTimer) {
        turn = failed;
        phase = TurnPhase.BACKING_OFF;
        timer = retryTimer;
    }

    /** BACKING_OFF → STARTING for the retry; false when an abort ended the wait first. */
    boolean claimRetry() {
        if (phase != TurnPhase.BACKING_OFF) {
            return false;
        }
        timer = NO_TIMER;
        phase = TurnPhase.STARTING;
        return true;
    }

    /**
     * → ABORTING for {@code cause}, from an abortable phase. Returns what ends the turn, to run after
     * unlocking: the run's abort while RUNNING; while BACKING_OFF, ending the turn at once (through
     * {@code endNow}); otherwise nothing, since the step in flight (the journal's start, the commit, a
     * resume) sees the phase when it finishes.
     */
    Runnable abort(AbortCause cause, TurnRunner endNow) {
        TurnPhase before = phase;
        phase = TurnPhase.ABORTING;
        abortCause = cause;
        if (before == TurnPhase.RUNNING && run != null) {
            return run::abort;
        }
        if (before == TurnPhase.BACKING_OFF) {
            cancelTimer();
            Turn ending = turn;
            return () -> endNow.endAborted(this, ending, cause);
        }
        return () -> {};
    }

    /** ABORTING → PARKED: aborted for a reload while turns are paused; {@link #turn()} keeps it. */
    void park(Turn parked) {
        turn = parked;
        phase = TurnPhase.PARKED;
        abortCause = AbortCause.NONE;
    }

    /** PARKED, or ABORTING for a reload → STARTING: the parked turn runs again (an abort since then stays). */
    void unpark() {
        if (phase == TurnPhase.PARKED || abortCause == AbortCause.RELOAD) {
            phase = TurnPhase.STARTING;
            abortCause = AbortCause.NONE;
        }
    }

    /** Any slot phase → IDLE: the turn is over, replied or superseded. The caller decides what follows. */
    void endTurn() {
        phase = TurnPhase.IDLE;
        abortCause = AbortCause.NONE;
        turn = null;
        run = null;
    }

    private void cancelTimer() {
        timer.cancel();
        timer = NO_TIMER;
    }

    @Override
    public String toString() {
        return "SessionQueue[" + sessionKey + ' ' + phase + (abortCause == AbortCause.NONE ? "" : " " + abortCause) + ']';
    }
}
