package dev.ferry.queue;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueSettings;
import dev.ferry.journal.Turn;

/**
 * SPEC 3.2's modes and cap as pure functions: given where the session is and what its queue holds,
 * what happens to a batch. No state, no clock, no effects; {@link TurnScheduler} applies the answer.
 */
final class FollowupPolicy {

    private FollowupPolicy() {}

    /**
     * Whether to offer the batch to the running turn. Only a single message, and only into a turn for
     * the same destination: the turn's one reply must reach everyone it answers.
     */
    static boolean offersSteer(QueueMode mode, TurnPhase phase, QueuedItem item, Turn running) {
        return (mode == QueueMode.STEER || mode == QueueMode.STEER_BACKLOG)
                && phase == TurnPhase.RUNNING
                && item.messages().size() == 1
                && item.destination().equals(Destination.of(running.lastMessage()));
    }

    /**
     * Admits a batch. {@code queued} counts the items that arrived while the session was busy (an idle
     * batch waiting for a slot is not one); {@code steerTaken} says whether the running turn took the batch
     * when it was offered. With {@code steer-backlog} a steered batch is still queued, so that no message is
     * ever part of two turns.
     */
    static Admission admit(TurnPhase phase, QueueSettings settings, int queued, boolean steerTaken) {
        if (phase == TurnPhase.IDLE) {
            return Admission.RUNS_NOW;
        }
        QueueMode mode = settings.mode();
        if (steerTaken && mode == QueueMode.STEER) {
            return Admission.STEERED;
        }
        boolean interrupts = mode == QueueMode.INTERRUPT && phase.isAbortable();
        int evict = 0;
        if (queued >= settings.cap()) {
            if (settings.drop() == DropPolicy.NEW) {
                return new Admission(Admission.Outcome.DROPPED_BY_CAP, 0, interrupts, steerTaken);
            }
            evict = queued - settings.cap() + 1;
        }
        Admission.Outcome outcome = interrupts ? Admission.Outcome.INTERRUPTING : Admission.Outcome.QUEUED;
        return new Admission(outcome, evict, interrupts, steerTaken);
    }
}
