package dev.ferry.debounce;

/**
 * The outcome of flushing every debouncer: {@code flushed} buffers were handed on; {@code remaining}
 * is what had still not reached the next stage when the flush stopped (buffered keys plus batches
 * awaiting a retry); {@code drained} when that is zero.
 */
public record FlushReport(boolean drained, int flushed, int remaining) {}
