package dev.ferry.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A {@link QueueOverride} as a JSON object in the config file's keys and spellings, only the fields it
 * sets, in a fixed order: how the config writes a channel's override back, and how the journal stores a
 * session's {@code /queue} settings. Reading what {@link #write} wrote gives the same override.
 */
public final class QueueOverrideCodec {

    private QueueOverrideCodec() {}

    /** Puts the fields {@code override} sets into {@code node}. */
    public static ObjectNode write(QueueOverride override, ObjectNode node) {
        if (override.mode() != null) {
            node.put("mode", override.mode().configName());
        }
        if (override.debounceMs() != null) {
            node.put("debounceMs", override.debounceMs());
        }
        if (override.cap() != null) {
            node.put("cap", override.cap());
        }
        if (override.drop() != null) {
            node.put("drop", override.drop().configName());
        }
        if (override.maxWaitMs() != null) {
            node.put("maxWaitMs", override.maxWaitMs());
        }
        return node;
    }

    /** The override {@code node} describes; a key it lacks, or a mode or drop policy no longer known, is not set. */
    public static QueueOverride read(JsonNode node) {
        return new QueueOverride(
                node.has("mode") ? QueueMode.parse(node.get("mode").asText()).orElse(null) : null,
                node.has("debounceMs") ? node.get("debounceMs").asLong() : null,
                node.has("cap") ? node.get("cap").asInt() : null,
                node.has("drop") ? DropPolicy.parse(node.get("drop").asText()).orElse(null) : null,
                node.has("maxWaitMs") ? node.get("maxWaitMs").asLong() : null);
    }
}
