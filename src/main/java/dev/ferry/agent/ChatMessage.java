package dev.ferry.agent;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** One message of a conversation as a model reads it: {@code role} is {@code user} or {@code assistant}. */
@JsonPropertyOrder({"role", "content"})
public record ChatMessage(String role, String content) {}
