package dev.ferry.queue;

/** One session's followup queue as {@code status} reports it. */
public record SessionQueueStatus(String sessionKey, int queued, boolean turnRunning) {}
