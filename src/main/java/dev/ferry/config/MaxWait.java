package dev.ferry.config;

/**
 * The one rule both waits of SPEC 3 share: the inbound debouncer's batches and the followup queues wait
 * for quiet at most {@code maxWaitMs}, and a {@code maxWaitMs} of 0 means five debounce windows.
 */
final class MaxWait {

    private MaxWait() {
    }

    static long resolve(long maxWaitMs, long windowMs) {
        if (maxWaitMs > 0) {
            return maxWaitMs;
        }
        // Saturate rather than overflow into a negative wait for absurdly long windows.
        return windowMs > Long.MAX_VALUE / 5 ? Long.MAX_VALUE : 5 * windowMs;
    }
}
