/**
 * Followup queue and turn scheduler: one turn at a time per session, strictly in arrival order, and at
 * most {@code agent.maxConcurrent} turns at once. It receives batches from session routing, fixes each
 * turn's inputs in the journal before the agent runs, records the completion in the journal and hands
 * the committed reply to the outbox. It never delivers a reply itself and never drops a message.
 */
package dev.ferry.queue;
