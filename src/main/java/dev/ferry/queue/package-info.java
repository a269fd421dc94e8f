/**
 * Followup queue and turn scheduler (SPEC 3.2): one turn at a time per session, strictly in arrival order,
 * and at most {@code agent.maxConcurrent} turns at once. It receives batches from session routing, fixes
 * each turn's inputs in the journal before the agent runs, records the completion in the journal and hands
 * the committed reply to the outbox. It never delivers a reply itself and never drops a message silently.
 * <p>
 * {@link dev.ferry.queue.TurnScheduler} is the public face; behind it, a session is a
 * {@code SessionQueue} (one {@code TurnPhase}, one {@code AbortCause}, its {@code FollowupQueue}), the pure
 * {@code FollowupPolicy} decides each batch's {@code Admission}, {@code TurnSlots} hands out the slots and
 * holds turns a reload parked, {@code TurnRunner} takes a turn from its slot to its end,
 * {@code QueueDirectives} keeps the {@code /queue} settings, and {@code DropRecorder} accounts for every
 * drop. What happens is published as gateway events ({@code QueueEvents}); publishing never blocks or fails a turn.
 */
package dev.ferry.queue;
