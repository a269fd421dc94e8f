package dev.ferry.queue;

/**
 * Where a session is in its turn life cycle; a session is in exactly one phase at a time.
 * <pre>
 *  IDLE ──submit──▶ READY ──slot──▶ STARTING ──backend started──▶ RUNNING ──reply──▶ COMPLETING ──▶ (next)
 *   ▲  ╲queued      ▲                  ▲  ▲                          │ failed           │ commit failed
 *   │   ▶ DEBOUNCING┘                  │  └──────── BACKING_OFF ◀────┴──────────────────┘
 *   │                                  │
 *   └── (next) ◀── ABORTING ◀── abort from STARTING, RUNNING, COMPLETING, BACKING_OFF or PARKED
 *                     │ cause RELOAD
 *                     └──▶ PARKED (while paused) ──resume──▶ STARTING
 * </pre>
 * "(next)" is what the followup queue holds: nothing (IDLE), a followup that waits for quiet
 * (DEBOUNCING) or one that may run at once (READY). From STARTING on, the session holds a turn slot.
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
