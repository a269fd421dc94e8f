package dev.ferry.intake;

import com.fasterxml.jackson.databind.JsonNode;

/** What a channel's HTTP endpoint answers, independent of the HTTP server that writes it. */
public record IntakeResponse(int status, JsonNode body) {}
