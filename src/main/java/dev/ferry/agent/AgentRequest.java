package dev.ferry.agent;

import java.util.ArrayList;
import java.util.List;

import dev.ferry.journal.Exchange;

/**
 * What one turn asks of the agent: the prompt, the session's earlier exchanges, oldest first, the observer
 * that hears the reply text as a streaming backend produces it, and where the turn's last message came
 * from (its channel and conversation; null when a caller does not say), which a local program is told.
 */
public record AgentRequest(String sessionKey, String systemPrompt, List<Exchange> history, String prompt,
                           TurnObserver observer, String channel, String conversation) {

    public AgentRequest {
        history = List.copyOf(history);
        observer = observer == null ? TurnObserver.NONE : observer;
    }

    /** The history as a model reads it: each exchange a user message, then the assistant's reply; oldest first. */
    public List<ChatMessage> historyMessages() {
        List<ChatMessage> messages = new ArrayList<>(history.size() * 2);
        for (Exchange exchange : history) {
            messages.add(new ChatMessage("user", exchange.prompt()));
            messages.add(new ChatMessage("assistant", exchange.reply()));
        }
        return messages;
    }

    /** A request that does not say where its messages came from. */
    public AgentRequest(String sessionKey, String systemPrompt, List<Exchange> history, String prompt,
                        TurnObserver observer) {
        this(sessionKey, systemPrompt, history, prompt, observer, null, null);
    }

    /** A request nobody watches while it runs. */
    public AgentRequest(String sessionKey, String systemPrompt, List<Exchange> history, String prompt) {
        this(sessionKey, systemPrompt, history, prompt, TurnObserver.NONE);
    }
}
