package dev.ferry.journal;

/**
 * Counts that account for every accepted message: {@code received = done + dropped + superseded + pending}.
 * {@code outboxPending} replies wait to be delivered; {@code outboxFailed} were refused for good.
 */
public record JournalStats(long received, long duplicates, long done, long dropped, long superseded, long pending,
                           long outboxPending, long outboxFailed) {}
