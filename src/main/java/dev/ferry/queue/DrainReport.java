package dev.ferry.queue;

/**
 * The outcome of {@code waitForFollowupQueueDrain}: {@code remaining} sums, over all followup queues,
 * queued items, dropped items not yet summarised into a prompt, and 1 for each queue still draining.
 */
public record DrainReport(boolean drained, int remaining) {}
