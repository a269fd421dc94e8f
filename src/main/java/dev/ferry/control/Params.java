package dev.ferry.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Reading an RPC's params, each refusal naming the param and what it must be. */
final class Params {

    private Params() {}

    /** A required non-blank string; {@code seeAlso} tells the caller where to find a valid one. */
    static String requiredText(ObjectNode params, String name, String seeAlso) {
        String value = params.path(name).asText("");
        if (value.isBlank()) {
            throw RpcException.invalidParams("params." + name + ": required (see " + seeAlso + ")");
        }
        return value;
    }

    /** An integer from {@code min} to {@code max}, {@code fallback} when absent or null. */
    static int intParam(ObjectNode params, String name, int fallback, int min, int max) {
        JsonNode node = params.get(name);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() < min || node.intValue() > max) {
            throw RpcException.invalidParams("params." + name + ": must be an integer from " + min
                    + (max == Integer.MAX_VALUE ? " up" : " to " + max) + ", got " + node);
        }
        return node.intValue();
    }

    /** {@code params.limit}: a positive integer, 50 when absent, capped at 1000. */
    static int limit(ObjectNode params) {
        JsonNode limitNode = params.get("limit");
        if (limitNode != null && (!limitNode.canConvertToInt() || limitNode.asInt() < 1)) {
            throw RpcException.invalidParams("params.limit: must be a positive integer");
        }
        return limitNode == null ? 50 : Math.min(limitNode.asInt(), 1000);
    }
}
