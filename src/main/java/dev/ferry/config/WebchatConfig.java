package dev.ferry.config;

/** The web chat page served at {@code /}. */
public record WebchatConfig(boolean enabled) {
}
