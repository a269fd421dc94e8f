package dev.ferry.delivery;

import java.time.Duration;

/** Capped exponential backoff: {@code initial}, doubling each failure, never more than {@code max}. */
public record RetryPolicy(Duration initial, Duration max) {

    public static final RetryPolicy DEFAULT = new RetryPolicy(Duration.ofMillis(200), Duration.ofSeconds(30));

    /** The wait before attempt number {@code failures + 1}, after {@code failures} failed attempts. */
    public Duration delayAfter(int failures) {
        int doublings = Math.max(failures - 1, 0);
        long initialMillis = initial.toMillis();
        // Past this many doublings the shift would overflow; the cap applies long before in practice.
        if (initialMillis <= 0 || doublings >= Long.numberOfLeadingZeros(initialMillis) - 1) {
            return max;
        }
        long millis = initialMillis << doublings;
        return millis > max.toMillis() ? max : Duration.ofMillis(millis);
    }
}
