package dev.ferry.agent;

import java.util.List;

import dev.ferry.journal.Exchange;

/**
 * What one turn asks of the agent: the prompt, the session's earlier exchanges, oldest first, and the
 * observer that hears the reply text as a streaming backend produces it.
 */
public record AgentRequest(String sessionKey, String systemPrompt, List<Exchange> history, String prompt,
                           TurnObserver observer) {

    public AgentRequest {
        history = List.copyOf(history);
        observer = observer == null ? TurnObserver.NONE : observer;
    }

    /** A request nobody watches while it runs. */
    public AgentRequest(String sessionKey, String systemPrompt, List<Exchange> history, String prompt) {
        this(sessionKey, systemPrompt, history, prompt, TurnObserver.NONE);
    }
}
