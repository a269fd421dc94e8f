package dev.ferry.config;

import java.util.Map;

/**
 * Inbound debouncer settings (SPEC 3.1). {@code byChannel} maps a channel to its own window in ms; it is
 * immutable and never null.
 */
public record InboundConfig(long debounceMs, long maxWaitMs, int maxBatch, int maxTrackedKeys, Map<String, Long> byChannel) {

    public InboundConfig {
        byChannel = byChannel == null ? Map.of() : Map.copyOf(byChannel);
    }

    /** The debounce window of {@code channel}: its own override, else the global one. */
    public long debounceMsFor(String channel) {
        Long own = channel == null ? null : byChannel.get(channel);
        return own != null ? own : debounceMs;
    }

    /** The longest a batch of {@code channel} may wait; 0 in the file means five windows. */
    public long maxWaitMsFor(String channel) {
        return MaxWait.resolve(maxWaitMs, debounceMsFor(channel));
    }
}
