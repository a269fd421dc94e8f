package dev.ferry.journal;

/** A session the journal has a transcript for; {@code turns} counts the exchanges its transcript still holds. */
public record SessionInfo(String sessionKey, long turns, long lastActiveEpochMs) {}
