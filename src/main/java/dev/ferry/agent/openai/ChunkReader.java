package dev.ferry.agent.openai;

import java.io.IOException;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads the JSON a chat-completions server sends: a streamed chunk, a whole (non-streamed) completion, and
 * an error body. Lenient where servers differ: {@code choices} may be empty, null or absent (the usage
 * chunk), {@code delta.content} may be null or absent (the role chunk, a reasoning chunk, the
 * finish-reason chunk), and {@code usage} may ride on any chunk. {@code reasoning_content} (and
 * {@code reasoning}) is never read: a model's thinking is not its reply. Stateless and thread-safe.
 */
final class ChunkReader {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ChunkReader() {}

    /** Token counts as the server reports them. */
    record Usage(long promptTokens, long completionTokens) {}

    /**
     * One streamed chunk: its reply text (empty when it carries none), its finish reason, usage, or the
     * error message a server sends in place of a chunk when generation fails mid-stream.
     */
    record Chunk(String content, Optional<String> finishReason, Optional<Usage> usage, Optional<String> error) {}

    /** Reads one event's data; fails with an {@link IOException} when it is not JSON of a chunk's shape. */
    static Chunk chunk(String data) throws IOException {
        JsonNode root = parse(data);
        Optional<String> error = errorMessage(root);
        JsonNode choice = firstChoice(root);
        String content = text(choice.path("delta").path("content"));
        Optional<String> finish = Optional.ofNullable(textOrNull(choice.path("finish_reason")));
        return new Chunk(content, finish, usage(root), error);
    }

    /** A whole completion: the reply text of {@code choices[0].message.content} and usage. */
    record Completion(String content, Optional<Usage> usage) {}

    static Completion completion(String body) throws IOException {
        JsonNode root = parse(body);
        JsonNode message = firstChoice(root).path("message");
        if (!message.isObject()) {
            throw new IOException("the completion has no choices[0].message");
        }
        return new Completion(text(message.path("content")), usage(root));
    }

    /** The {@code error.message} of an OpenAI-style error body (or a bare {@code error} string), if it is one. */
    static Optional<String> errorMessage(String body) {
        try {
            return errorMessage(parse(body));
        } catch (IOException notJson) {
            return Optional.empty();
        }
    }

    private static Optional<String> errorMessage(JsonNode root) {
        JsonNode error = root.path("error");
        if (error.isTextual()) {
            return Optional.of(error.asText());
        }
        if (error.isObject()) {
            String message = textOrNull(error.path("message"));
            return Optional.of(message == null ? error.toString() : message);
        }
        return Optional.empty();
    }

    private static JsonNode parse(String text) throws IOException {
        JsonNode root = JSON.readTree(text);
        if (root == null || !root.isObject()) {
            throw new IOException("expected a JSON object");
        }
        return root;
    }

    private static JsonNode firstChoice(JsonNode root) {
        JsonNode choices = root.path("choices");
        return choices.isArray() && !choices.isEmpty() ? choices.get(0) : JSON.missingNode();
    }

    private static Optional<Usage> usage(JsonNode root) {
        JsonNode usage = root.path("usage");
        if (!usage.isObject()) {
            return Optional.empty();
        }
        return Optional.of(new Usage(usage.path("prompt_tokens").asLong(0), usage.path("completion_tokens").asLong(0)));
    }

    private static String text(JsonNode node) {
        return node.isTextual() ? node.asText() : "";
    }

    private static String textOrNull(JsonNode node) {
        return node.isTextual() ? node.asText() : null;
    }
}
