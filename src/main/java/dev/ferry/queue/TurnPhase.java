package dev.ferry.queue;

/**
 * Where a session is in its turn life cycle; a session is in exactly one phase at a time, and
 * {@link SessionQueue} makes every move between them:
 * <pre>
 *  IDLE        → READY        a batch for an idle session, or a replayed turn
 *  IDLE        → DEBOUNCING   a turn ended with followups queued whose queue debounce is not over
 *  DEBOUNCING  → READY        the drain timer fired and the drain is due
 *  DEBOUNCING  → IDLE         {@code /stop} emptied the queue
 *  READY       → STARTING     a slot came free; READY → IDLE if {@code /stop} emptied the queue meanwhile
 *  STARTING    → RUNNING      the journal fixed the inputs and the backend started
 *  RUNNING     → COMPLETING   the backend replied; RUNNING → BACKING_OFF if it failed
 *  COMPLETING  → BACKING_OFF  the commit failed; on success the turn ends (below)
 *  BACKING_OFF → STARTING     the retry timer fired
 *  STARTING, RUNNING, COMPLETING, BACKING_OFF, PARKED → ABORTING   interrupt, {@code /stop}, reload (not PARKED)
 *  ABORTING    → PARKED       aborted for a reload while turns are paused; → STARTING if they resumed
 *  PARKED      → STARTING     turns resumed
 *  a turn's end → IDLE, DEBOUNCING or READY, by what the followup queue holds (READY at once after an interrupt)
 * </pre>
 * From STARTING on, the session holds a turn slot.
 */
enum TurnPhase {
    /** No turn and nothing waiting. */
    IDLE,
    /** Followups are queued and the drain timer waits for the queue debounce. */
    DEBOUNCING,
    /** In the line for a turn slot. */
    READY,
    /** Holds a slot; the turn's inputs are being fixed in the journal, or the backend is being started. */
    STARTING,
    /** The backend runs the turn; only now can a message be steered into it. */
    RUNNING,
    /** The reply is in hand and being committed. */
    COMPLETING,
    /** The last attempt failed; the retry timer is pending. */
    BACKING_OFF,
    /** The turn is being ended without a reply, for the session's abort cause. */
    ABORTING,
    /** Aborted for a reload while turns are paused: keeps its slot and runs again, as the same turn, on resume. */
    PARKED;

    /** The session holds one of {@code agent.maxConcurrent} slots. */
    boolean holdsSlot() {
        return compareTo(STARTING) >= 0;
    }

    /** An interrupt or {@code /stop} may end this turn: it holds a slot and is not already ending. */
    boolean isAbortable() {
        return holdsSlot() && this != ABORTING;
    }

    /** A reload may park this turn: it is in progress, neither ending nor parked already. */
    boolean isParkable() {
        return isAbortable() && this != PARKED;
    }
}
