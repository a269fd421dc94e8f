package dev.ferry.queue;

import static dev.ferry.queue.QueueFixture.SESSION;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueMode;
import dev.ferry.events.GatewayEvent.TurnEnded;
import dev.ferry.events.GatewayEvent.TurnOutcome;
import dev.ferry.journal.Reply;

/** SPEC 3.3 on the scheduler alone: turns a reload aborts are parked, never superseded, and run again as the same turn. */
class ReloadParkingTest {

    private final QueueFixture fixture = new QueueFixture();
    private final ControlledBackend backend = fixture.backend;

    @Test
    void aTurnAbortedForAReloadAfterTurnsResumedRunsAgainAtOnce() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("hello"));

        assertThat(turns.parkRunningTurns()).isOne();

        assertThat(backend.prompts()).containsExactly("hello", "hello");
        backend.run(1).answer("hi");
        assertThat(fixture.turnReplies()).extracting(Reply::text).containsExactly("hi");
        assertThat(fixture.journal.stats().superseded()).isZero();
        assertThat(turns.runningTurns()).isZero();
    }

    @Test
    void nothingStartsWhilePausedAndQueuedSessionsStartOnResume() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        turns.pause();
        fixture.submit(turns, SESSION, fixture.message("waits"));

        assertThat(backend.runs()).isEmpty();
        assertThat(turns.status(SESSION)).get().extracting(SessionQueueStatus::queued).isEqualTo(1);

        turns.resume();

        assertThat(backend.prompts()).containsExactly("waits");
    }

    @Test
    void aParkedTurnThatAnInterruptReplacedIsSupersededOnResumeAndTheNewMessageRuns() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.INTERRUPT, 1_000, 20, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("old"));
        turns.pause();
        turns.parkRunningTurns();

        fixture.submit(turns, SESSION, fixture.message("new"));
        assertThat(backend.runs()).as("paused").hasSize(1);
        turns.resume();

        assertThat(backend.prompts()).containsExactly("old", "new");
        assertThat(fixture.journal.stats().superseded()).isOne();
        assertThat(fixture.events.of(TurnEnded.class)).extracting(TurnEnded::outcome)
                .containsExactly(TurnOutcome.PARKED, TurnOutcome.SUPERSEDED);
        backend.run(1).answer("done");
        assertThat(fixture.turnReplies()).extracting(Reply::inReplyTo).containsExactly(List.of("m2"));
    }

    @Test
    void stopOnAParkedTurnSupersedesItOnResume() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("old"));
        turns.pause();
        turns.parkRunningTurns();

        assertThat(turns.stop(SESSION).abortedTurn()).isTrue();
        turns.resume();

        assertThat(backend.runs()).as("not run again").hasSize(1);
        assertThat(fixture.journal.stats().superseded()).isOne();
        assertThat(turns.runningTurns()).isZero();
        assertThat(turns.snapshot()).isEmpty();
    }
}
