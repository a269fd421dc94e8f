package dev.ferry.control.ws;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.control.Json;
import dev.ferry.control.RpcException;
import dev.ferry.intake.StrictJson;
import dev.ferry.journal.JournalUnavailableException;

/**
 * The frames of SPEC 3.5: a request read strictly (the same reader as every HTTP body), and responses
 * and events written in one place. A frame that is not a request is answered with what was wrong, so a
 * client learns its mistake and the connection stays usable. Stateless.
 */
final class WsFrames {
    private static final Logger log = LoggerFactory.getLogger(WsFrames.class);

    /** A request frame, or why it is not one; {@code id} is null when the frame had none to answer with. */
    record Request(JsonNode id, String method, JsonNode params, String errorCode, String error) {
        boolean ok() {
            return error == null;
        }
    }

    private WsFrames() {}

    static Request parse(String text) {
        StrictJson.Read read = StrictJson.read(text.getBytes(StandardCharsets.UTF_8));
        if (!read.ok()) {
            // StrictJson speaks of a "body"; here the client sent a frame.
            return refused(NullNode.getInstance(), "INVALID_JSON", read.error().replaceFirst("^body", "frame"));
        }
        JsonNode frame = read.value();
        if (!frame.isObject()) {
            return refused(NullNode.getInstance(), "INVALID_FRAME",
                    "frame: must be a JSON object {\"type\":\"req\",\"id\",\"method\",\"params\"}");
        }
        JsonNode id = frame.get("id");
        if (id == null || !(id.isTextual() && !id.asText().isBlank() || id.isIntegralNumber())) {
            return refused(NullNode.getInstance(), "INVALID_FRAME", "id: must be a non-blank string or an integer");
        }
        JsonNode type = frame.get("type");
        if (type == null || !"req".equals(type.textValue())) {
            return refused(id, "INVALID_FRAME", "type: must be \"req\"" + (type == null ? " (missing)" : ""));
        }
        JsonNode method = frame.get("method");
        if (method == null || !method.isTextual() || method.asText().isBlank()) {
            return refused(id, "INVALID_FRAME", "method: must be a non-blank string");
        }
        return new Request(id, method.asText(), frame.get("params"), null, null);
    }

    private static Request refused(JsonNode id, String code, String message) {
        return new Request(id, null, null, code, message);
    }

    static String ok(JsonNode id, JsonNode payload) {
        ObjectNode frame = Json.object().put("type", "res");
        frame.set("id", id);
        frame.put("ok", true);
        frame.set("payload", payload);
        return text(frame);
    }

    static String error(JsonNode id, String code, String message) {
        ObjectNode frame = Json.object().put("type", "res");
        frame.set("id", id);
        frame.put("ok", false);
        frame.putObject("error").put("code", code).put("message", message);
        return text(frame);
    }

    /** The error response for a failed call, with the codes {@code POST /rpc} gives for the same failure. */
    static String failure(JsonNode id, String method, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof RpcException refused) {
            return error(id, refused.code(), refused.getMessage());
        }
        var unavailable = JournalUnavailableException.findIn(cause);
        if (unavailable.isPresent()) {
            return error(id, "JOURNAL_UNAVAILABLE", unavailable.get().getMessage());
        }
        log.error("ws rpc failed method={}", method, cause);
        return error(id, "INTERNAL", Json.INTERNAL_MESSAGE);
    }

    static String event(String name, JsonNode payload) {
        ObjectNode frame = Json.object().put("type", "event").put("event", name);
        frame.set("payload", payload);
        return text(frame);
    }

    private static String text(JsonNode frame) {
        return new String(Json.bytes(frame), StandardCharsets.UTF_8);
    }
}
