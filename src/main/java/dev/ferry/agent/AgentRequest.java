package dev.ferry.agent;

import java.util.List;

import dev.ferry.journal.Exchange;

/** What one turn asks of the agent: the prompt, and the session's earlier exchanges, oldest first. */
public record AgentRequest(String sessionKey, String systemPrompt, List<Exchange> history, String prompt) {

    public AgentRequest {
        history = List.copyOf(history);
    }
}
