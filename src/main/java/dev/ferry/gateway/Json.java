package dev.ferry.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The gateway's JSON shapes: RPC envelopes and error bodies, written the same way everywhere. */
final class Json {

    static final ObjectMapper MAPPER = new ObjectMapper();

    static final String INTERNAL_MESSAGE = "internal error; see the gateway log";

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

    /** The refusals that both HTTP front ends (Javalin's routes and {@link IntakeHandler}) give, worded once. */
    static ObjectNode internalError() {
        return error("INTERNAL", INTERNAL_MESSAGE);
    }

    /** Never says which token was expected, nor repeats the one given. */
    static ObjectNode unauthorized(String authorizationHeader) {
        return error("UNAUTHORIZED", authorizationHeader == null ? "missing bearer token" : "invalid bearer token");
    }

    static ObjectNode notFound(String method, String path) {
        return error("NOT_FOUND", "no such endpoint: " + method + " " + path);
    }

    static ObjectNode bodyTooLarge() {
        return error("PAYLOAD_TOO_LARGE", "body: larger than " + HttpApi.MAX_BODY_BYTES + " bytes");
    }

    static ObjectNode bodyUnreadable() {
        return error("INVALID_REQUEST", "body: could not be read");
    }

    static ObjectNode methodNotAllowed(String method, String path) {
        return error("METHOD_NOT_ALLOWED", method + " is not allowed on " + path);
    }

    static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serialises", e);
        }
    }
}
