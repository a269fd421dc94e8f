/**
 * Agent backends: turn a prompt and a session's history into a reply. A backend receives one
 * {@link dev.ferry.agent.AgentRequest} per turn from the turn scheduler and hands back an
 * {@link dev.ferry.agent.AgentRun}. It never touches the journal or a channel: what it returns is
 * recorded and delivered by the stages after it.
 */
package dev.ferry.agent;
