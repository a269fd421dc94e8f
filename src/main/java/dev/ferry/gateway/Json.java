package dev.ferry.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The gateway's JSON shapes: RPC envelopes and error bodies, written the same way everywhere. */
final class Json {

    static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    static ObjectNode ok(JsonNode payload) {
        ObjectNode body = object().put("ok", true);
        body.set("payload", payload);
        return body;
    }

    static ObjectNode error(String code, String message) {
        ObjectNode body = object().put("ok", false);
        body.putObject("error").put("code", code).put("message", message);
        return body;
    }

    static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serialises", e);
        }
    }
}
