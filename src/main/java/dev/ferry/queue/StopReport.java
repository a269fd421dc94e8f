package dev.ferry.queue;

/** What {@code /stop} did: whether it aborted a running turn, and how many queued messages it cleared. */
public record StopReport(boolean abortedTurn, int clearedMessages) {}
