package dev.ferry.config;

/** An OpenAI-compatible chat-completions server; the API key is read from the environment variable {@code apiKeyEnv}. */
public record OpenAiConfig(String baseUrl, String model, String apiKeyEnv, boolean stream, long timeoutMs,
                           int maxTokens, double temperature) {
}
