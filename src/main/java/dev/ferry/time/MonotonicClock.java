package dev.ferry.time;

/**
 * A monotonic clock in nanoseconds, for a deadline in a program that runs no scheduler (a command-line
 * client); only differences are meaningful. The gateway measures intervals with {@link Scheduler#nowMillis()}.
 */
@FunctionalInterface
public interface MonotonicClock {

    /** The system's monotonic clock. */
    MonotonicClock SYSTEM = System::nanoTime;

    long nanos();
}
