/**
 * Inbound debouncer: merges a sender's burst of messages into one batch (SPEC 3.1). It receives
 * journaled messages from intake and hands batches to session routing through a
 * {@link dev.ferry.debounce.BatchHandler}; which messages go at once besides media and empty text (the
 * chat commands) is a rule it is handed, so it knows nothing of session routing. Every debouncer belongs to one
 * {@link dev.ferry.debounce.DebouncerRegistry}, so a reload or a stop can flush them all at once. It
 * never drops a message: per debounce key, batches leave in arrival order, and a failed hand-off is
 * retried until it succeeds.
 */
package dev.ferry.debounce;
