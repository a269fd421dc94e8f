package dev.ferry.agent.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ferry.agent.AgentRequest;
import dev.ferry.config.OpenAiConfig;
import dev.ferry.journal.Exchange;

class ChatCompletionRequestTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static OpenAiConfig config(boolean stream) {
        return new OpenAiConfig("http://127.0.0.1:1/v1", "m1", null, stream, 120_000, 256, 0.2);
    }

    private static JsonNode body(boolean stream, String systemPrompt, List<String> steered) throws IOException {
        List<Exchange> history = List.of(new Exchange(1, "r1", "first?", "one", 0, List.of()),
                new Exchange(2, "r2", "second?", "two", 0, List.of()));
        AgentRequest request = new AgentRequest("s", systemPrompt, history, "third?");
        return JSON.readTree(ChatCompletionRequest.body(config(stream), request, steered));
    }

    private static List<String> messages(JsonNode body) {
        List<String> messages = new ArrayList<>();
        body.path("messages").forEach(m -> messages.add(m.path("role").asText() + ": " + m.path("content").asText()));
        return messages;
    }

    @Test
    void sendsSystemPromptHistoryPairsAndPromptInOrder() throws IOException {
        JsonNode body = body(true, "be brief", List.of());
        assertThat(messages(body)).containsExactly("system: be brief", "user: first?", "assistant: one", "user: second?",
                "assistant: two", "user: third?");
        assertThat(body.path("model").asText()).isEqualTo("m1");
        assertThat(body.path("max_tokens").asInt()).isEqualTo(256);
        assertThat(body.path("temperature").asDouble()).isEqualTo(0.2);
        assertThat(body.path("stream").asBoolean()).isTrue();
        assertThat(body.path("stream_options").path("include_usage").asBoolean()).isTrue();
    }

    @Test
    void leavesOutABlankSystemPrompt() throws IOException {
        assertThat(messages(body(true, "  ", List.of())).get(0)).isEqualTo("user: first?");
        assertThat(messages(body(true, null, List.of())).get(0)).isEqualTo("user: first?");
    }

    @Test
    void sendsStreamOptionsOnlyWhenStreaming() throws IOException {
        JsonNode body = body(false, "x", List.of());
        assertThat(body.path("stream").asBoolean(true)).isFalse();
        assertThat(body.has("stream_options")).isFalse();
    }

    @Test
    void addsEachSteeredTextAsAUserMessageAfterThePrompt() throws IOException {
        List<String> messages = messages(body(true, "x", List.of("also this", "and that")));
        assertThat(messages.subList(messages.size() - 3, messages.size()))
                .containsExactly("user: third?", "user: also this", "user: and that");
    }
}
