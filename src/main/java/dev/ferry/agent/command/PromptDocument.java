package dev.ferry.agent.command;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ferry.agent.AgentRequest;
import dev.ferry.agent.ChatMessage;

/**
 * What a program configured with {@code input: "json"} reads on stdin: one JSON document
 * {@code {"systemPrompt", "history":[{"role","content"}], "prompt", "sessionKey", "conversation"}}, the
 * history oldest first, each earlier exchange as a {@code user} message followed by an {@code assistant}
 * one. {@code systemPrompt} and {@code conversation} are null when there is none. Immutable.
 */
@JsonPropertyOrder({"systemPrompt", "history", "prompt", "sessionKey", "conversation"})
public record PromptDocument(String systemPrompt, List<ChatMessage> history, String prompt, String sessionKey,
                             String conversation) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public PromptDocument {
        history = List.copyOf(history);
    }

    static PromptDocument of(AgentRequest request, SessionAddress address) {
        return new PromptDocument(request.systemPrompt(), request.historyMessages(), request.prompt(), request.sessionKey(),
                address.conversation());
    }

    /** The document as UTF-8 JSON. */
    byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            // Strings and lists of strings always serialise; this would be a bug in this class.
            throw new IllegalStateException("prompt document could not be written as JSON", e);
        }
    }
}
