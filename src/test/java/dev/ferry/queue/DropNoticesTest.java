package dev.ferry.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The drop notices' rate limit, and that it does not keep every session that ever dropped. */
class DropNoticesTest {

    private final QueueFixture fixture = new QueueFixture();
    private final DropNotices notices = new DropNotices(fixture.journal, fixture.outbox, fixture.scheduler);

    @Test
    void aDestinationIsForgottenOnceAnIntervalPassesWithNothingToReport() {
        notices.report(QueueFixture.SESSION, fixture.message("dropped"), 1, "new");
        assertThat(fixture.notices()).hasSize(1);
        assertThat(notices.trackedDestinations()).isEqualTo(1);

        fixture.scheduler.advance(DropNotices.INTERVAL.minusMillis(1));
        assertThat(notices.trackedDestinations()).as("still rate-limiting").isEqualTo(1);
        fixture.scheduler.advance(Duration.ofMillis(1));

        assertThat(notices.trackedDestinations()).isZero();
        assertThat(fixture.scheduler.pendingTasks()).isZero();
    }

    @Test
    void aDropInsideTheIntervalKeepsTheDestinationUntilItsOwnNoticeHasHadItsInterval() {
        notices.report(QueueFixture.SESSION, fixture.message("dropped 1"), 1, "new");
        fixture.scheduler.advance(Duration.ofSeconds(30));
        notices.report(QueueFixture.SESSION, fixture.message("dropped 2"), 2, "new");

        fixture.scheduler.advance(Duration.ofSeconds(30));
        assertThat(fixture.notices()).as("the second notice, at the end of the first interval").hasSize(2);
        assertThat(notices.trackedDestinations()).isEqualTo(1);

        fixture.scheduler.advance(Duration.ofSeconds(30));
        notices.report(QueueFixture.SESSION, fixture.message("dropped 3"), 1, "new");
        assertThat(fixture.notices()).as("still rate-limited by the second notice").hasSize(2);

        fixture.scheduler.advance(DropNotices.INTERVAL.multipliedBy(2));
        assertThat(fixture.notices()).hasSize(3);
        assertThat(notices.trackedDestinations()).isZero();
    }
}
