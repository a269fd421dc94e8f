package dev.ferry.config;

/** One channel's followup queue settings; a null field is not set and falls back to the queue level. */
public record QueueOverride(QueueMode mode, Long debounceMs, Integer cap, DropPolicy drop) {
}
