/**
 * Session routing: decides which conversation history a batch of messages belongs to
 * ({@code session.scope}) and hands the batch to the turn scheduler under that session key. It receives
 * batches from the debouncer and never runs the agent or touches a channel itself.
 */
package dev.ferry.session;
