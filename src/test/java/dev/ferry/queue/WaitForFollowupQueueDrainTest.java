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

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueMode;

/** SPEC 3.2 {@code waitForFollowupQueueDrain}: the cases of the user's document. */
class WaitForFollowupQueueDrainTest {

    private static final Duration LONG = Duration.ofSeconds(30);
    private static final Duration SHORT = Duration.ofMillis(5);

    private final QueueFixture fixture = new QueueFixture();
    private final ControlledBackend backend = fixture.backend;

    @Test
    void returnsDrainedImmediatelyWhenNoQueuesExist() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());

        long started = System.nanoTime();
        DrainReport report = turns.waitForFollowupQueueDrain(LONG);

        assertThat(report).isEqualTo(new DrainReport(true, 0));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void returnsDrainedImmediatelyWhenAllQueuesAreEmpty() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("queued"));
        backend.run(0).answer("one");
        fixture.advance(1_000);
        backend.run(1).answer("two");

        long started = System.nanoTime();
        DrainReport report = turns.waitForFollowupQueueDrain(LONG);

        assertThat(report).isEqualTo(new DrainReport(true, 0));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void waitsUntilQueuesAreDrained() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("queued"));
        CompletableFuture<DrainReport> waited = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            try {
                waited.complete(turns.waitForFollowupQueueDrain(LONG));
            } catch (Throwable e) {
                waited.completeExceptionally(e);
            }
        }, "drain-waiter");
        waiter.start();
        // Parked on the signal, not spinning.
        await().atMost(Duration.ofSeconds(10)).until(() -> waiter.getState() == Thread.State.TIMED_WAITING);

        backend.run(0).answer("one");
        fixture.advance(1_000);
        assertThat(backend.prompts()).hasSize(2);
        assertThat(waited).as("the queued message's turn is still running").isNotDone();

        backend.run(1).answer("two");

        assertThat(waited.get(10, TimeUnit.SECONDS)).isEqualTo(new DrainReport(true, 0));
        waiter.join(10_000);
        assertThat(fixture.turnReplies()).hasSize(2);
    }

    @Test
    void returnsNotDrainedOnTimeout() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("queued"));

        DrainReport report = turns.waitForFollowupQueueDrain(SHORT);

        // One queued item, plus one because the queue is draining.
        assertThat(report).isEqualTo(new DrainReport(false, 2));
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

        DrainReport report = turns.waitForFollowupQueueDrain(SHORT);

        assertThat(report).isEqualTo(new DrainReport(false, 1));
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

        DrainReport report = turns.waitForFollowupQueueDrain(Duration.ofMillis(1));

        assertThat(report).isEqualTo(new DrainReport(false, 3));
    }

    @Test
    void aRunningTurnWithNothingQueuedIsNotPending() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("only"));

        assertThat(turns.waitForFollowupQueueDrain(SHORT)).isEqualTo(new DrainReport(true, 0));
    }

    @Test
    void remainingCountsDroppedMessagesNotYetSummarised() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 1_000, 1, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("dropped"));
        fixture.submit(turns, SESSION, fixture.message("kept"));

        // One queued item, one dropped message whose summary is still to come, one draining queue.
        assertThat(turns.waitForFollowupQueueDrain(SHORT)).isEqualTo(new DrainReport(false, 3));

        backend.run(0).answer("one");
        fixture.advance(1_000);
        backend.run(1).answer("two");

        assertThat(turns.waitForFollowupQueueDrain(SHORT)).isEqualTo(new DrainReport(true, 0));
    }
}
