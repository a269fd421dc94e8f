package dev.ferry.journal;

/**
 * Counts that account for every accepted message: {@code received = done + dropped + superseded + pending}.
 */
public record JournalStats(long received, long duplicates, long done, long dropped, long superseded, long pending,
                           long outboxPending) {}
