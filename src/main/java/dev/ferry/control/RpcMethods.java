package dev.ferry.control;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The RPC surface shared by {@code POST /rpc} and the WebSocket: a method name maps to a
 * handler of its params. Handlers answer a payload or throw {@link RpcException}. Thread-safe once built.
 */
public final class RpcMethods {

    /** One RPC method: params in (an empty object when the caller sent none), payload out. */
    @FunctionalInterface
    public interface Handler {
        CompletableFuture<JsonNode> call(ObjectNode params);
    }

    private final Map<String, Handler> handlers = new TreeMap<>();

    public RpcMethods add(String method, Handler handler) {
        handlers.put(method, handler);
        return this;
    }

    /** For methods that answer at once. */
    public RpcMethods addSync(String method, Function<ObjectNode, JsonNode> handler) {
        return add(method, params -> CompletableFuture.completedFuture(handler.apply(params)));
    }

    /** The method names, sorted: what {@code connect} tells a WebSocket client it may call. */
    public List<String> methods() {
        return List.copyOf(handlers.keySet());
    }

    /** Never throws: a failure is a failed future carrying an {@link RpcException} or the fault. */
    public CompletableFuture<JsonNode> call(String method, JsonNode params) {
        Handler handler = handlers.get(method);
        if (handler == null) {
            return CompletableFuture.failedFuture(new RpcException("UNKNOWN_METHOD", 404,
                    "unknown method '" + method + "' (known: " + String.join(", ", handlers.keySet()) + ")"));
        }
        if (params != null && !params.isNull() && !params.isObject()) {
            return CompletableFuture.failedFuture(RpcException.invalidParams("params: must be an object"));
        }
        ObjectNode given = params == null || params.isNull() ? Json.object() : (ObjectNode) params;
        try {
            return handler.call(given);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
