package dev.ferry.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.config.GatewayConfig;

/** Calls the running gateway's {@code POST /rpc}, at the address and with the token of the configuration. */
final class RpcClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The HTTP status and the parsed response body. */
    record Answer(int status, JsonNode body) {
        boolean ok() {
            return status == 200 && body.path("ok").asBoolean(false);
        }
    }

    /** How long a call may take, the reload's drain included. */
    static final Duration TIMEOUT = Duration.ofMinutes(2);

    private final GatewayConfig gateway;
    private final URI base;
    private final URI endpoint;

    RpcClient(GatewayConfig gateway) {
        this.gateway = gateway;
        this.base = base(gateway);
        this.endpoint = base.resolve("/rpc");
    }

    /** {@code http://host:port} of the gateway the configuration describes; a wildcard bind is reached on loopback. */
    static URI base(GatewayConfig gateway) {
        String host = gateway.bind().equals("0.0.0.0") ? "127.0.0.1" : gateway.bind().equals("::") ? "::1" : gateway.bind();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + gateway.port());
    }

    URI base() {
        return base;
    }

    URI endpoint() {
        return endpoint;
    }

    Answer call(String method, JsonNode params) throws IOException, InterruptedException {
        ObjectNode request = JSON.createObjectNode().put("method", method);
        if (params != null) {
            request.set("params", params);
        }
        HttpRequest.Builder builder = HttpRequest.newBuilder(endpoint).timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(request.toString()));
        if (gateway.authToken().isPresent()) {
            builder.header("Authorization", "Bearer " + gateway.authToken().reveal());
        }
        HttpResponse<String> response = HttpClient.newHttpClient().send(builder.build(), HttpResponse.BodyHandlers.ofString());
        try {
            return new Answer(response.statusCode(), JSON.readTree(response.body()));
        } catch (JsonProcessingException e) {
            throw new IOException("HTTP " + response.statusCode() + " with a body that is not JSON; is this a Ferry gateway?", e);
        }
    }

    static String pretty(JsonNode node) throws IOException {
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
    }

    static ObjectNode object() {
        return JSON.createObjectNode();
    }
}
