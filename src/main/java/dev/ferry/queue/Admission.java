package dev.ferry.queue;

/**
 * What {@link FollowupPolicy} decides for a batch that reaches its session: its {@code outcome}, how
 * many of the oldest queued items the cap evicts to make room, whether the running turn is aborted
 * ({@code interrupt} mode; this holds even when the cap then refuses the batch), and whether the
 * running turn also saw the batch ({@code steer}, {@code steer-backlog}).
 */
record Admission(Outcome outcome, int evictOldest, boolean interruptsTurn, boolean steered) {

    /** The session was idle: the batch goes straight to the slot line. */
    static final Admission RUNS_NOW = new Admission(Outcome.RUNS_NOW, 0, false, false);
    /** {@code steer}: the batch joined the running turn and is not queued. */
    static final Admission STEERED = new Admission(Outcome.STEERED, 0, false, true);

    enum Outcome {
        /** Runs as the session's next turn without waiting for the queue. */
        RUNS_NOW,
        /** Joined the running turn. */
        STEERED,
        /** Waits in the followup queue. */
        QUEUED,
        /** Waits in the followup queue, and the running turn is aborted so that it runs next. */
        INTERRUPTING,
        /** Refused by the queue's cap ({@code drop: new}); journaled as dropped. */
        DROPPED_BY_CAP
    }

    /** The batch joins the followup queue. */
    boolean queues() {
        return outcome == Outcome.QUEUED || outcome == Outcome.INTERRUPTING;
    }
}
