package dev.ferry.journal;

/** A reply the platform refused for good: kept in the outbox with the reason, and never sent again unless asked. */
public record FailedReply(Reply reply, String reason, long failedAtEpochMs) {}
