package dev.ferry.queue;

import java.util.ArrayDeque;

import dev.ferry.agent.AgentRun;
import dev.ferry.journal.Turn;
import dev.ferry.time.Scheduler;

/**
 * One session's followup queue and the state of its turn. A plain holder: every field is guarded by
 * the owning {@link TurnScheduler}'s lock, and only the scheduler reads or writes it.
 */
final class SessionQueue {

    final String sessionKey;
    final ArrayDeque<QueuedItem> items = new ArrayDeque<>();

    /** In the scheduler's ready line, waiting for a turn slot. */
    boolean waitingForSlot;
    /** A turn slot is held: the turn is starting, running, or waiting for a retry. */
    boolean turnRunning;
    /** Items arrived while the session was busy, and the queue has not been idle since. */
    boolean draining;
    Turn turn;
    AgentRun run;
    /** Set when the running turn must end without a reply (interrupt, /stop); the reason it is superseded. */
    String abortReason;

    /** The channel of the session's latest message: whose queue settings apply while the queue is empty. */
    String channel;
    /** A failed turn waits for its retry; whoever clears this first (the retry or an abort) ends the wait. */
    boolean retryPending;
    /** The pending retry's timer, cancelled when the turn is superseded or stopped meanwhile. */
    Scheduler.Cancellable retryTimer;
    /** When the latest queued item joined: the quiet window counts from here; the drain bound from the oldest item's own time. */
    long lastEnqueuedAt;
    /**
     * When the first item queued since the last drain joined, or -1: the drain bound counts from here. Not
     * the oldest item still queued, since the cap drops the oldest and the bound would then slide forever.
     */
    long firstQueuedAt = -1;
    Scheduler.Cancellable drainTimer;
    /** The next drain starts without the queue debounce (after an interrupt). */
    boolean skipDebounce;

    /** Items dropped by {@code summarize} whose summary has not yet been part of a prompt. */
    int unsummarizedDrops;
    final ArrayDeque<String> summaryLines = new ArrayDeque<>();
    long droppedTotal;
    long supersededTotal;

    SessionQueue(String sessionKey) {
        this.sessionKey = sessionKey;
    }

    boolean isBusy() {
        return turnRunning || waitingForSlot || !items.isEmpty() || drainTimer != null;
    }

    /** This queue's share of {@code waitForFollowupQueueDrain}'s remaining count (SPEC 3.2). */
    int remaining() {
        return items.size() + unsummarizedDrops + (draining ? 1 : 0);
    }

    /** Nothing here that a later message would need: the queue may be forgotten. */
    boolean isIdle() {
        return !isBusy() && !draining && unsummarizedDrops == 0;
    }
}
