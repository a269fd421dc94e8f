package dev.ferry.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class ManualSchedulerTest {

    private final ManualScheduler scheduler = new ManualScheduler();
    private final List<String> ran = new ArrayList<>();

    @Test
    void timeMovesOnlyWhenAdvanced() {
        assertThat(scheduler.nowMillis()).isZero();

        scheduler.advance(Duration.ofMillis(1500));

        assertThat(scheduler.nowMillis()).isEqualTo(1500);
    }

    @Test
    void runsDueTasksInDeadlineOrderAndSchedulingOrderForTies() {
        scheduler.schedule(Duration.ofMillis(300), () -> ran.add("c"));
        scheduler.schedule(Duration.ofMillis(100), () -> ran.add("a"));
        scheduler.schedule(Duration.ofMillis(200), () -> ran.add("b1"));
        scheduler.schedule(Duration.ofMillis(200), () -> ran.add("b2"));

        scheduler.advance(Duration.ofMillis(99));
        assertThat(ran).isEmpty();

        scheduler.advance(Duration.ofMillis(201));
        assertThat(ran).containsExactly("a", "b1", "b2", "c");
        assertThat(scheduler.pendingTasks()).isZero();
    }

    @Test
    void aTaskSeesTheTimeItWasDue() {
        List<Long> seen = new ArrayList<>();
        scheduler.schedule(Duration.ofMillis(40), () -> seen.add(scheduler.nowMillis()));

        scheduler.advance(Duration.ofMillis(100));

        assertThat(seen).containsExactly(40L);
        assertThat(scheduler.nowMillis()).isEqualTo(100);
    }

    @Test
    void tasksScheduledDuringAdvanceRunWhenTheirDeadlineFallsWithinIt() {
        scheduler.schedule(Duration.ofMillis(10), () -> {
            ran.add("first@" + scheduler.nowMillis());
            scheduler.schedule(Duration.ofMillis(10), () -> ran.add("second@" + scheduler.nowMillis()));
            scheduler.schedule(Duration.ofMillis(100), () -> ran.add("late@" + scheduler.nowMillis()));
        });

        scheduler.advance(Duration.ofMillis(50));

        assertThat(ran).containsExactly("first@10", "second@20");
        assertThat(scheduler.pendingTasks()).isOne();

        scheduler.advance(Duration.ofMillis(60));
        assertThat(ran).containsExactly("first@10", "second@20", "late@110");
    }

    @Test
    void runDueRunsZeroAndNegativeDelaysWithoutMovingTime() {
        scheduler.advance(Duration.ofMillis(5));
        scheduler.schedule(Duration.ZERO, () -> {
            ran.add("zero");
            scheduler.schedule(Duration.ZERO, () -> ran.add("chained"));
        });
        scheduler.schedule(Duration.ofMillis(-100), () -> ran.add("negative"));
        scheduler.schedule(Duration.ofMillis(1), () -> ran.add("later"));

        scheduler.runDue();

        assertThat(ran).containsExactly("zero", "negative", "chained");
        assertThat(scheduler.nowMillis()).isEqualTo(5);
        assertThat(scheduler.pendingTasks()).isOne();
    }

    @Test
    void cancelledTaskNeverRunsAndCancellingTwiceOrAfterRunningIsHarmless() {
        Scheduler.Cancellable cancelled = scheduler.schedule(Duration.ofMillis(10), () -> ran.add("cancelled"));
        Scheduler.Cancellable kept = scheduler.schedule(Duration.ofMillis(10), () -> ran.add("kept"));

        cancelled.cancel();
        cancelled.cancel();
        assertThat(scheduler.pendingTasks()).isOne();

        scheduler.advance(Duration.ofMillis(10));
        kept.cancel();

        assertThat(ran).containsExactly("kept");
        assertThat(scheduler.pendingTasks()).isZero();
    }

    @Test
    void refusesToMoveTimeBackwards() {
        assertThatThrownBy(() -> scheduler.advance(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
