package dev.ferry.config;

/** Fully resolved followup queue settings for one channel; no field is unset. */
public record QueueSettings(QueueMode mode, long debounceMs, int cap, DropPolicy drop) {
}
