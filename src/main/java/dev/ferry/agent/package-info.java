/**
 * Agent backends: turn a prompt and a session's history into a reply. A backend receives one
 * {@link dev.ferry.agent.AgentRequest} per turn from the turn scheduler and hands back an
 * {@link dev.ferry.agent.AgentRun}; while it runs it may tell the request's
 * {@link dev.ferry.agent.TurnObserver} the reply text as it is produced. Backends are made from one
 * table, {@link dev.ferry.agent.AgentBackends}, which the build check shares with start-up and reload;
 * each further backend is a subpackage ({@code agent.openai}, {@code agent.command}). A backend never
 * touches the journal or a channel: what it returns is recorded and delivered by the stages after it.
 */
package dev.ferry.agent;
