package dev.ferry.journal;

/**
 * Counts that account for every accepted message: {@code received = done + pending} until the queue
 * can drop or supersede messages.
 */
public record JournalStats(long received, long duplicates, long done, long pending, long outboxPending) {}
