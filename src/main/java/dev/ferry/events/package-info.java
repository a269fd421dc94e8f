/**
 * The gateway's event stream, beside the pipeline rather than in it: stages publish what a message and
 * a turn are doing (queued, started, text deltas, ended, reply committed, delivered) and what the
 * gateway does (reload applied, shutting down) through {@link dev.ferry.events.GatewayEvents}; the
 * {@link dev.ferry.events.EventHub} hands each to its subscribers' bounded buffers. Events are plain
 * data and not durable: the journal stays the truth. Publishing must never block or fail a publisher,
 * and this package imports no stage of the pipeline.
 */
package dev.ferry.events;
