package dev.ferry.journal;

/** A session the journal has a transcript for. */
public record SessionInfo(String sessionKey, long turns, long lastActiveEpochMs) {}
