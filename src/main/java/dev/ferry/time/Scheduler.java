package dev.ferry.time;

import java.time.Duration;

/**
 * The clock and timer seam. Implementations run scheduled tasks on their own thread(s); a task must
 * not block, because timers for every session share those threads.
 */
public interface Scheduler {

    /** Milliseconds on a monotonic clock: only differences are meaningful. */
    long nowMillis();

    /** Runs {@code task} once after {@code delay}; a zero or negative delay runs it as soon as possible. */
    Cancellable schedule(Duration delay, Runnable task);

    /** A scheduled task that has not necessarily run yet. */
    interface Cancellable {
        /** Prevents the task from running if it has not started; harmless when it already ran. */
        void cancel();
    }
}
