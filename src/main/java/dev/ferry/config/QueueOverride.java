package dev.ferry.config;

/**
 * Followup queue settings set for one channel or one session ({@code /queue}); a null field is not set and
 * falls back to the level below.
 */
public record QueueOverride(QueueMode mode, Long debounceMs, Integer cap, DropPolicy drop, Long maxWaitMs) {

    /** An override that leaves the drain bound alone. */
    public QueueOverride(QueueMode mode, Long debounceMs, Integer cap, DropPolicy drop) {
        this(mode, debounceMs, cap, drop, null);
    }

    /** This override with every field {@code newer} sets taken from {@code newer}. */
    public QueueOverride mergedWith(QueueOverride newer) {
        return new QueueOverride(
                newer.mode() != null ? newer.mode() : mode,
                newer.debounceMs() != null ? newer.debounceMs() : debounceMs,
                newer.cap() != null ? newer.cap() : cap,
                newer.drop() != null ? newer.drop() : drop,
                newer.maxWaitMs() != null ? newer.maxWaitMs() : maxWaitMs);
    }

    public boolean isEmpty() {
        return mode == null && debounceMs == null && cap == null && drop == null && maxWaitMs == null;
    }
}
