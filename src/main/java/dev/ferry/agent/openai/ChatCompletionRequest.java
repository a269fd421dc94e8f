package dev.ferry.agent.openai;

import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.agent.AgentRequest;
import dev.ferry.config.OpenAiConfig;

/**
 * The JSON body of one {@code POST /chat/completions}: the system prompt (when there is one), the
 * session's history as user/assistant pairs, oldest first, the turn's prompt, then each steered text as
 * one more user message. {@code stream_options.include_usage} goes only with {@code stream: true}, where
 * OpenAI, vLLM and llama.cpp accept it; some servers refuse it on a non-streamed call. Stateless.
 */
final class ChatCompletionRequest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ChatCompletionRequest() {}

    static byte[] body(OpenAiConfig config, AgentRequest request, List<String> steered) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", config.model());
        ArrayNode messages = body.putArray("messages");
        if (request.systemPrompt() != null && !request.systemPrompt().isBlank()) {
            add(messages, "system", request.systemPrompt());
        }
        request.historyMessages().forEach(message -> add(messages, message.role(), message.content()));
        add(messages, "user", request.prompt());
        for (String text : steered) {
            add(messages, "user", text);
        }
        body.put("stream", config.stream());
        if (config.stream()) {
            body.putObject("stream_options").put("include_usage", true);
        }
        body.put("max_tokens", config.maxTokens());
        body.put("temperature", config.temperature());
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a request body always serialises", e);
        }
    }

    private static void add(ArrayNode messages, String role, String content) {
        messages.addObject().put("role", role).put("content", content);
    }
}
