package dev.ferry.queue;

import static dev.ferry.queue.QueueFixture.OTHER_SESSION;
import static dev.ferry.queue.QueueFixture.SESSION;
import static dev.ferry.queue.QueueFixture.THIRD_SESSION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueMode;

/**
 * SPEC 3.2 {@code waitForFollowupQueueDrain}: the cases of the user's document. The limit is judged on the
 * fixture's manual clock, so a test proves "at once", "not before the limit" and "at the limit" by moving
 * time, never by measuring it. The class timeout only keeps a broken wait from hanging the build.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WaitForFollowupQueueDrainTest {

    private static final Duration LONG = Duration.ofSeconds(30);
    private static final Duration SHORT = Duration.ofMillis(5);

    private final QueueFixture fixture = new QueueFixture();
    private final ControlledBackend backend = fixture.backend;

    @Test
    void returnsDrainedImmediatelyWhenNoQueuesExist() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());

        assertReturnsAtOnce(turns, new DrainReport(true, 0));
    }

    @Test
    void returnsDrainedImmediatelyWhenAllQueuesAreEmpty() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("queued"));
        backend.run(0).answer("one");
        fixture.advance(1_000);
        backend.run(1).answer("two");

        assertReturnsAtOnce(turns, new DrainReport(true, 0));
    }

    @Test
    void waitsUntilQueuesAreDrained() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("queued"));
        CompletableFuture<DrainReport> waited = waitInBackground(turns, LONG);

        backend.run(0).answer("one");
        fixture.advance(1_000);
        assertThat(backend.prompts()).hasSize(2);
        assertThat(waited).as("the queued message's turn is still running").isNotDone();

        backend.run(1).answer("two");

        assertThat(waited.get(10, TimeUnit.SECONDS)).isEqualTo(new DrainReport(true, 0));
        assertThat(fixture.turnReplies()).hasSize(2);
    }

    @Test
    void returnsNotDrainedOnTimeout() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("queued"));

        // One queued item, plus one because the queue is draining.
        assertTimesOutAtTheLimit(turns, SHORT, new DrainReport(false, 2));
    }

    @Test
    void countsADrainingQueueWithNoItemsAsPending() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("queued"));
        backend.run(0).answer("one");
        fixture.advance(1_000);
        assertThat(backend.prompts()).as("the queued message runs as its own turn").hasSize(2);
        assertThat(turns.queuedItems()).isZero();

        assertTimesOutAtTheLimit(turns, SHORT, new DrainReport(false, 1));
    }

    @Test
    void threeDrainingQueuesReportRemainingThree() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        for (String session : new String[] {SESSION, OTHER_SESSION, THIRD_SESSION}) {
            String conversation = session.substring(session.lastIndexOf(':') + 1);
            fixture.submit(turns, session, fixture.message(conversation, "first"));
            fixture.submit(turns, session, fixture.message(conversation, "queued"));
        }
        for (int i = 0; i < 3; i++) {
            backend.run(i).answer("done");
        }
        fixture.advance(1_000);
        assertThat(backend.runs()).hasSize(6);

        assertTimesOutAtTheLimit(turns, Duration.ofMillis(1), new DrainReport(false, 3));
    }

    @Test
    void aRunningTurnWithNothingQueuedIsNotPending() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("only"));

        assertReturnsAtOnce(turns, new DrainReport(true, 0));
    }

    @Test
    void remainingCountsDroppedMessagesNotYetSummarised() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 1_000, 1, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("dropped"));
        fixture.submit(turns, SESSION, fixture.message("kept"));

        // One queued item, one dropped message whose summary is still to come, one draining queue.
        assertTimesOutAtTheLimit(turns, SHORT, new DrainReport(false, 3));

        backend.run(0).answer("one");
        fixture.advance(1_000);
        backend.run(1).answer("two");

        assertReturnsAtOnce(turns, new DrainReport(true, 0));
    }

    /**
     * With nothing pending the wait returns on the calling thread without letting time pass or setting a
     * timer: on a clock that stands still, a wait that waited would never return.
     */
    private void assertReturnsAtOnce(TurnScheduler turns, DrainReport expected) throws InterruptedException {
        long now = fixture.scheduler.nowMillis();
        long timers = fixture.scheduler.scheduledCount();

        assertThat(turns.waitForFollowupQueueDrain(LONG)).isEqualTo(expected);
        assertThat(fixture.scheduler.nowMillis()).isEqualTo(now);
        assertThat(fixture.scheduler.scheduledCount()).as("no deadline timer set").isEqualTo(timers);
    }

    /** The wait is still parked a millisecond before its limit, and returns {@code expected} once time reaches it. */
    private void assertTimesOutAtTheLimit(TurnScheduler turns, Duration limit, DrainReport expected) throws Exception {
        CompletableFuture<DrainReport> waited = waitInBackground(turns, limit);

        fixture.advance(limit.toMillis() - 1);
        assertThat(waited).as("before the limit").isNotDone();
        fixture.advance(1);

        assertThat(waited.get(10, TimeUnit.SECONDS)).isEqualTo(expected);
    }

    /** Starts the wait on a thread of its own and returns once that thread is parked on the signal, not spinning. */
    private CompletableFuture<DrainReport> waitInBackground(TurnScheduler turns, Duration timeout) {
        CompletableFuture<DrainReport> waited = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            try {
                waited.complete(turns.waitForFollowupQueueDrain(timeout));
            } catch (Throwable e) {
                waited.completeExceptionally(e);
            }
        }, "drain-waiter");
        waiter.setDaemon(true);
        waiter.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> waiter.getState() == Thread.State.TIMED_WAITING);
        return waited;
    }
}
