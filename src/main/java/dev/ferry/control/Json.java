package dev.ferry.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The gateway's JSON shapes: RPC envelopes and error bodies, written the same way everywhere. */
public final class Json {

    public static final ObjectMapper MAPPER = new ObjectMapper();

    /** No request body over this is read, by any endpoint. */
    public static final int MAX_BODY_BYTES = 1 << 20;

    public static final String INTERNAL_MESSAGE = "internal error; see the gateway log";

    private Json() {}

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static ObjectNode ok(JsonNode payload) {
        ObjectNode body = object().put("ok", true);
        body.set("payload", payload);
        return body;
    }

    public static ObjectNode error(String code, String message) {
        ObjectNode body = object().put("ok", false);
        body.putObject("error").put("code", code).put("message", message);
        return body;
    }

    /** The refusals that both HTTP front ends (Javalin's routes and the body-reading handler) give, worded once. */
    public static ObjectNode internalError() {
        return error("INTERNAL", INTERNAL_MESSAGE);
    }

    /** Never says which token was expected, nor repeats the one given. */
    public static ObjectNode unauthorized(String authorizationHeader) {
        return error("UNAUTHORIZED", authorizationHeader == null ? "missing bearer token" : "invalid bearer token");
    }

    public static ObjectNode notFound(String method, String path) {
        return error("NOT_FOUND", "no such endpoint: " + method + " " + path);
    }

    public static ObjectNode bodyTooLarge() {
        return error("PAYLOAD_TOO_LARGE", "body: larger than " + MAX_BODY_BYTES + " bytes");
    }

    public static ObjectNode bodyUnreadable() {
        return error("INVALID_REQUEST", "body: could not be read");
    }

    public static ObjectNode methodNotAllowed(String method, String path) {
        return error("METHOD_NOT_ALLOWED", method + " is not allowed on " + path);
    }

    public static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serialises", e);
        }
    }
}
