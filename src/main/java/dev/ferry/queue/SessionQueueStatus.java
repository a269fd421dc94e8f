package dev.ferry.queue;

import dev.ferry.config.QueueSettings;

/** One session's followup queue as {@code status} and {@code /status} report it. */
public record SessionQueueStatus(String sessionKey, QueueSettings settings, int queued, boolean draining,
                                 boolean turnRunning, long dropped, long superseded) {}
