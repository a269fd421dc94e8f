package dev.ferry.journal;

/**
 * The outcome of appending an inbound message. A duplicate carries the seq of the first copy, so
 * the platform can be told the same thing both times.
 */
public record AppendResult(long seq, boolean duplicate) {}
