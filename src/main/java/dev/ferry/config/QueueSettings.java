package dev.ferry.config;

/** Fully resolved followup queue settings for one channel; no field is unset. */
public record QueueSettings(QueueMode mode, long debounceMs, int cap, DropPolicy drop) {

    /** These settings with every field that {@code override} sets replaced; a null override changes nothing. */
    public QueueSettings overriddenBy(QueueOverride override) {
        if (override == null) {
            return this;
        }
        return new QueueSettings(
                override.mode() != null ? override.mode() : mode,
                override.debounceMs() != null ? override.debounceMs() : debounceMs,
                override.cap() != null ? override.cap() : cap,
                override.drop() != null ? override.drop() : drop);
    }
}
