package dev.ferry.config;

/**
 * An OpenAI-compatible chat-completions server; the API key is read from the environment variable
 * {@code apiKeyEnv}. {@code timeoutMs} bounds a whole turn; the connect, first-token and between-chunks
 * timeouts each bound a part of it, and a 429 or 5xx is retried up to {@code maxRetries} times.
 */
public record OpenAiConfig(String baseUrl, String model, String apiKeyEnv, boolean stream, long timeoutMs,
                           int maxTokens, double temperature, long connectTimeoutMs, long firstTokenTimeoutMs,
                           long idleTimeoutMs, int maxRetries) {

    public static final long DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
    public static final long DEFAULT_FIRST_TOKEN_TIMEOUT_MS = 60_000;
    public static final long DEFAULT_IDLE_TIMEOUT_MS = 30_000;
    public static final int DEFAULT_MAX_RETRIES = 3;

    /** The timeouts and retries at their defaults. */
    public OpenAiConfig(String baseUrl, String model, String apiKeyEnv, boolean stream, long timeoutMs, int maxTokens,
                        double temperature) {
        this(baseUrl, model, apiKeyEnv, stream, timeoutMs, maxTokens, temperature, DEFAULT_CONNECT_TIMEOUT_MS,
                DEFAULT_FIRST_TOKEN_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_RETRIES);
    }
}
