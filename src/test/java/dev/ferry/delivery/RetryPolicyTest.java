package dev.ferry.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class RetryPolicyTest {

    private final RetryPolicy policy = new RetryPolicy(Duration.ofMillis(200), Duration.ofSeconds(30));

    @Test
    void firstRetryWaitsTheInitialDelay() {
        assertThat(policy.delayAfter(1)).isEqualTo(Duration.ofMillis(200));
        assertThat(policy.delayAfter(0)).isEqualTo(Duration.ofMillis(200));
    }

    @Test
    void delayDoublesWithEachFailure() {
        assertThat(policy.delayAfter(2)).isEqualTo(Duration.ofMillis(400));
        assertThat(policy.delayAfter(3)).isEqualTo(Duration.ofMillis(800));
        assertThat(policy.delayAfter(8)).isEqualTo(Duration.ofMillis(25_600));
    }

    @Test
    void delayIsCappedAtTheMaximum() {
        assertThat(policy.delayAfter(9)).isEqualTo(Duration.ofSeconds(30));
        assertThat(policy.delayAfter(40)).isEqualTo(Duration.ofSeconds(30));
        assertThat(policy.delayAfter(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void delayNeverExceedsTheCapEvenWhenDoublingOverflows() {
        RetryPolicy huge = new RetryPolicy(Duration.ofDays(365), Duration.ofDays(3650));

        for (int failures = 1; failures <= 64; failures++) {
            assertThat(huge.delayAfter(failures)).as("after %d failures", failures)
                    .isBetween(Duration.ofDays(365), Duration.ofDays(3650));
        }
    }

    @Test
    void defaultStartsAt200msAndCapsAt30s() {
        assertThat(RetryPolicy.DEFAULT.delayAfter(1)).isEqualTo(Duration.ofMillis(200));
        assertThat(RetryPolicy.DEFAULT.delayAfter(100)).isEqualTo(Duration.ofSeconds(30));
    }
}
