package dev.ferry.config;

/** One channel's followup queue settings; a null field is not set and falls back to the queue level. */
public record QueueOverride(QueueMode mode, Long debounceMs, Integer cap, DropPolicy drop) {

    /** This override with every field {@code newer} sets taken from {@code newer}. */
    public QueueOverride mergedWith(QueueOverride newer) {
        return new QueueOverride(
                newer.mode() != null ? newer.mode() : mode,
                newer.debounceMs() != null ? newer.debounceMs() : debounceMs,
                newer.cap() != null ? newer.cap() : cap,
                newer.drop() != null ? newer.drop() : drop);
    }

    public boolean isEmpty() {
        return mode == null && debounceMs == null && cap == null && drop == null;
    }
}
