package dev.ferry.config;

/** Which agent backend runs turns, and the settings of each backend; only the one named by {@code backend} is used. */
public record AgentConfig(String backend, int maxConcurrent, String systemPrompt, int historyTurns,
                          EchoConfig echo, OpenAiConfig openai, CommandConfig command) {
}
