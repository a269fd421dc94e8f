package dev.ferry.gateway;

import java.time.Duration;

import dev.ferry.config.LoadedConfig;
import dev.ferry.debounce.FlushReport;
import dev.ferry.queue.DrainReport;

/**
 * The steps of SPEC 3.3 that a reload or a stop drives, in the order {@link ReloadSequencer} calls them (the prepared reload's commit stands where SPEC says apply). The
 * gateway implements it; tests implement it to check the order.
 */
interface ReloadTarget {

    FlushReport flushAllInboundDebouncers(Duration timeout) throws InterruptedException;

    boolean hasQueuedFollowups();

    DrainReport waitForFollowupQueueDrain(Duration timeout) throws InterruptedException;

    /** No new turn starts from here on; intake keeps accepting and journaling. */
    void markDraining();

    /** True when every running turn finished within the timeout. */
    boolean awaitRunningTurns(Duration timeout) throws InterruptedException;

    /** Aborts the turns still running; their messages stay pending and run again. Returns how many. */
    int abortRunningTurns();

    /**
     * Prepares everything the new configuration changes, with no visible effect; fails, having left
     * nothing behind, when any part of it cannot be made.
     */
    PreparedReload prepare(LoadedConfig next) throws Exception;

    /** The prepared reload was committed and {@code generation} is now current. */
    default void applied(long generation) {}

    /** New turns may start again; what waited runs in order. */
    void clearDraining();
}
