package dev.ferry.time;

/**
 * Wall-clock time, for what is stored or shown (a row's timestamp, a retention cutoff); never for
 * measuring an interval, which is {@link Scheduler#nowMillis()}'s job. The one seam through which code
 * outside this package reads the date, so a test can fix it.
 */
@FunctionalInterface
public interface WallClock {

    /** The system's clock. */
    WallClock SYSTEM = System::currentTimeMillis;

    /** Milliseconds since the epoch, UTC. */
    long epochMillis();
}
