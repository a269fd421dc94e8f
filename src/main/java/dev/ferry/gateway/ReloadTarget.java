package dev.ferry.gateway;

import java.time.Duration;

import dev.ferry.config.LoadedConfig;
import dev.ferry.debounce.FlushReport;
import dev.ferry.queue.DrainReport;

/**
 * The steps of SPEC 3.3 that a reload or a stop drives, in the order {@link RunLoop} calls them. The
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

    /** Rebuilds what the new configuration changes. */
    void apply(LoadedConfig next);

    /** New turns may start again; what waited runs in order. */
    void clearDraining();
}
