package dev.ferry.config;

import java.util.Map;

/**
 * Followup queue settings (SPEC 3.2) at the config level; a session's {@code /queue} directive is applied
 * elsewhere, on top of {@link #settingsFor}. {@code maxWaitMs} 0 means five debounce windows.
 * {@code byChannel} is immutable and never null.
 */
public record QueueConfig(QueueMode mode, long debounceMs, long maxWaitMs, int cap, DropPolicy drop, boolean notifyDrops,
                          Map<String, QueueOverride> byChannel) {

    public QueueConfig {
        byChannel = byChannel == null ? Map.of() : Map.copyOf(byChannel);
    }

    /** The settings of {@code channel}: each field its override sets wins over the queue-level one. */
    public QueueSettings settingsFor(String channel) {
        QueueOverride own = channel == null ? null : byChannel.get(channel);
        return new QueueSettings(mode, debounceMs, cap, drop, maxWaitMs).overriddenBy(own);
    }
}
