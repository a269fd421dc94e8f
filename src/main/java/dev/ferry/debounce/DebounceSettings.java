package dev.ferry.debounce;

import java.time.Duration;

import dev.ferry.config.InboundConfig;

/**
 * One channel's debounce bounds. A zero window turns debouncing off: every message is its own batch.
 */
public record DebounceSettings(Duration window, Duration maxWait, int maxBatch, int maxTrackedKeys) {

    public DebounceSettings {
        if (maxBatch < 1 || maxTrackedKeys < 1) {
            throw new IllegalArgumentException("maxBatch and maxTrackedKeys must be >= 1");
        }
    }

    public static DebounceSettings forChannel(InboundConfig config, String channel) {
        return new DebounceSettings(Duration.ofMillis(config.debounceMsFor(channel)),
                Duration.ofMillis(config.maxWaitMsFor(channel)), config.maxBatch(), config.maxTrackedKeys());
    }

    public boolean isOff() {
        return window.isZero();
    }
}
