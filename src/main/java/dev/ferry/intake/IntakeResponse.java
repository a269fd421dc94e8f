package dev.ferry.intake;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a channel's HTTP endpoint answers, independent of the HTTP server that writes it.
 * {@code retryAfterSeconds} is sent as {@code Retry-After} when above zero.
 */
public record IntakeResponse(int status, JsonNode body, int retryAfterSeconds) {

    public IntakeResponse(int status, JsonNode body) {
        this(status, body, 0);
    }
}
