package dev.ferry.config;

/**
 * Fully resolved followup queue settings for one channel; no field is unset. {@code maxWaitMs} 0 means
 * the default bound, five debounce windows, resolved by {@link #longestWaitMs()} after every override,
 * so a session that only changes its debounce gets a bound to match.
 */
public record QueueSettings(QueueMode mode, long debounceMs, int cap, DropPolicy drop, long maxWaitMs) {

    /** Settings with the default drain bound. */
    public QueueSettings(QueueMode mode, long debounceMs, int cap, DropPolicy drop) {
        this(mode, debounceMs, cap, drop, 0);
    }

    /** These settings with every field that {@code override} sets replaced; a null override changes nothing. */
    public QueueSettings overriddenBy(QueueOverride override) {
        if (override == null) {
            return this;
        }
        return new QueueSettings(
                override.mode() != null ? override.mode() : mode,
                override.debounceMs() != null ? override.debounceMs() : debounceMs,
                override.cap() != null ? override.cap() : cap,
                override.drop() != null ? override.drop() : drop,
                override.maxWaitMs() != null ? override.maxWaitMs() : maxWaitMs);
    }

    /**
     * The longest a queue waits for its quiet window after its first queued item: {@code maxWaitMs}, or
     * five debounce windows when that is 0, as the inbound debouncer bounds its batches.
     */
    public long longestWaitMs() {
        return MaxWait.resolve(maxWaitMs, debounceMs);
    }
}
