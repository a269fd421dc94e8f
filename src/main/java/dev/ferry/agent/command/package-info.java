/**
 * The command backend ({@code agent.backend: "command"}): any local program as the agent. Each turn
 * starts the program of {@code agent.command.argv} (no shell), gives it the prompt on stdin (plain text,
 * or a {@link dev.ferry.agent.command.PromptDocument}), streams its stdout to the turn observer and
 * replies with the whole of it on exit 0. It receives an {@link dev.ferry.agent.AgentRequest} and hands
 * back an {@link dev.ferry.agent.AgentRun}. It never puts the program's stderr into a reply (stderr goes
 * to the log), and never leaves a timed-out, oversized or aborted program's process tree running.
 */
package dev.ferry.agent.command;
