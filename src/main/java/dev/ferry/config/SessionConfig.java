package dev.ferry.config;

/** How messages are grouped into conversation histories. */
public record SessionConfig(SessionScope scope) {
}
