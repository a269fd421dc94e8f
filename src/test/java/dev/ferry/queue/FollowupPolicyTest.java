package dev.ferry.queue;

import static dev.ferry.journal.TestMessages.inbound;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueSettings;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Turn;

/** SPEC 3.2's modes and cap as values: no scheduler, no threads, no clock. */
class FollowupPolicyTest {

    private static final InboundMessage IN_C1 = inbound("c1", "alice", "m1", "hi").withSeq(1);
    private static final Turn RUNNING_IN_C1 = new Turn(1, "r1", "s", List.of(IN_C1), "hi");
    private static final QueuedItem NEXT_IN_C1 = new QueuedItem(List.of(inbound("c1", "bob", "m2", "more").withSeq(2)), true, 0);

    private static QueueSettings settings(QueueMode mode, int cap, DropPolicy drop) {
        return new QueueSettings(mode, 1_000, cap, drop);
    }

    @Test
    void anIdleSessionRunsTheBatchNow() {
        assertThat(FollowupPolicy.admit(TurnPhase.IDLE, settings(QueueMode.COLLECT, 20, DropPolicy.SUMMARIZE), 0, false))
                .isEqualTo(Admission.RUNS_NOW);
    }

    @Test
    void aBusySessionQueuesBelowTheCap() {
        for (TurnPhase busy : List.of(TurnPhase.DEBOUNCING, TurnPhase.READY, TurnPhase.RUNNING, TurnPhase.BACKING_OFF)) {
            assertThat(FollowupPolicy.admit(busy, settings(QueueMode.COLLECT, 20, DropPolicy.SUMMARIZE), 19, false))
                    .as(busy.name()).isEqualTo(new Admission(Admission.Outcome.QUEUED, 0, false, false));
        }
    }

    @Test
    void atTheCapNewRefusesTheBatchAndOldOrSummarizeEvictsTheOldest() {
        assertThat(FollowupPolicy.admit(TurnPhase.RUNNING, settings(QueueMode.FOLLOWUP, 2, DropPolicy.NEW), 2, false))
                .isEqualTo(new Admission(Admission.Outcome.DROPPED_BY_CAP, 0, false, false));
        assertThat(FollowupPolicy.admit(TurnPhase.RUNNING, settings(QueueMode.FOLLOWUP, 2, DropPolicy.OLD), 2, false))
                .isEqualTo(new Admission(Admission.Outcome.QUEUED, 1, false, false));
        assertThat(FollowupPolicy.admit(TurnPhase.RUNNING, settings(QueueMode.FOLLOWUP, 2, DropPolicy.SUMMARIZE), 3, false))
                .as("a cap lowered below the queue's depth evicts down to it").isEqualTo(
                        new Admission(Admission.Outcome.QUEUED, 2, false, false));
    }

    @Test
    void interruptAbortsATurnInHandButNotOneAlreadyEndingOrNotYetStarted() {
        QueueSettings interrupt = settings(QueueMode.INTERRUPT, 20, DropPolicy.SUMMARIZE);
        for (TurnPhase abortable : List.of(TurnPhase.STARTING, TurnPhase.RUNNING, TurnPhase.COMPLETING,
                TurnPhase.BACKING_OFF, TurnPhase.PARKED)) {
            assertThat(FollowupPolicy.admit(abortable, interrupt, 0, false)).as(abortable.name())
                    .isEqualTo(new Admission(Admission.Outcome.INTERRUPTING, 0, true, false));
        }
        for (TurnPhase not : List.of(TurnPhase.ABORTING, TurnPhase.READY, TurnPhase.DEBOUNCING)) {
            assertThat(FollowupPolicy.admit(not, interrupt, 0, false).outcome()).as(not.name())
                    .isEqualTo(Admission.Outcome.QUEUED);
        }
        assertThat(FollowupPolicy.admit(TurnPhase.RUNNING, settings(QueueMode.INTERRUPT, 1, DropPolicy.NEW), 1, false))
                .as("the cap may still refuse the interrupting batch").isEqualTo(
                        new Admission(Admission.Outcome.DROPPED_BY_CAP, 0, true, false));
    }

    @Test
    void steerJoinsWhenTheTurnTookItAndFallsBackToFollowupWhenNot() {
        QueueSettings steer = settings(QueueMode.STEER, 20, DropPolicy.SUMMARIZE);
        assertThat(FollowupPolicy.admit(TurnPhase.RUNNING, steer, 0, true)).isEqualTo(Admission.STEERED);
        assertThat(FollowupPolicy.admit(TurnPhase.RUNNING, steer, 0, false))
                .isEqualTo(new Admission(Admission.Outcome.QUEUED, 0, false, false));
        assertThat(FollowupPolicy.admit(TurnPhase.RUNNING, settings(QueueMode.STEER_BACKLOG, 20, DropPolicy.SUMMARIZE), 0, true))
                .as("steer-backlog: seen by the turn and still queued").isEqualTo(
                        new Admission(Admission.Outcome.QUEUED, 0, false, true));
    }

    @Test
    void steeringIsOfferedOnlyToARunningTurnForOneMessageToTheSameDestination() {
        assertThat(FollowupPolicy.offersSteer(QueueMode.STEER, TurnPhase.RUNNING, NEXT_IN_C1, RUNNING_IN_C1)).isTrue();
        assertThat(FollowupPolicy.offersSteer(QueueMode.STEER_BACKLOG, TurnPhase.RUNNING, NEXT_IN_C1, RUNNING_IN_C1)).isTrue();
        assertThat(FollowupPolicy.offersSteer(QueueMode.COLLECT, TurnPhase.RUNNING, NEXT_IN_C1, RUNNING_IN_C1)).isFalse();
        assertThat(FollowupPolicy.offersSteer(QueueMode.STEER, TurnPhase.COMPLETING, NEXT_IN_C1, RUNNING_IN_C1)).isFalse();
        assertThat(FollowupPolicy.offersSteer(QueueMode.STEER, TurnPhase.ABORTING, NEXT_IN_C1, RUNNING_IN_C1)).isFalse();
        QueuedItem inC2 = new QueuedItem(List.of(inbound("c2", "bob", "m3", "elsewhere").withSeq(3)), true, 0);
        assertThat(FollowupPolicy.offersSteer(QueueMode.STEER, TurnPhase.RUNNING, inC2, RUNNING_IN_C1)).isFalse();
        QueuedItem two = new QueuedItem(List.of(NEXT_IN_C1.messages().get(0), IN_C1), true, 0);
        assertThat(FollowupPolicy.offersSteer(QueueMode.STEER, TurnPhase.RUNNING, two, RUNNING_IN_C1)).isFalse();
    }
}
