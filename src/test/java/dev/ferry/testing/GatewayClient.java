package dev.ferry.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** A plain HTTP client for a gateway under test: real requests over loopback, answers parsed as JSON. */
public final class GatewayClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A status and a parsed body (null when the body was not JSON). */
    public record Answer(int status, JsonNode body, String raw) {}

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI base;
    private final String token;

    public GatewayClient(URI base, String token) {
        this.base = base;
        this.token = token;
    }

    public Answer postWebhook(String body) {
        return post("/channels/webhook/inbound", body, token);
    }

    public Answer postWebhook(String body, String bearer) {
        return post("/channels/webhook/inbound", body, bearer);
    }

    public Answer webhookMessage(String messageId, String conversation, String sender, String text) {
        return postWebhook(JSON.createObjectNode().put("messageId", messageId).put("conversation", conversation)
                .put("sender", sender).put("text", text).toString());
    }

    public Answer rpc(String method) {
        return post("/rpc", "{\"method\":\"" + method + "\"}", token);
    }

    public Answer rpc(String method, String paramsJson) {
        return post("/rpc", "{\"method\":\"" + method + "\",\"params\":" + paramsJson + "}", token);
    }

    public Answer get(String path, String bearer) {
        return send(request(path, bearer).GET().build());
    }

    public Answer post(String path, String body, String bearer) {
        return send(request(path, bearer).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    public Answer send(HttpRequest request) {
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            JsonNode body;
            try {
                body = JSON.readTree(response.body());
            } catch (IOException notJson) {
                body = null;
            }
            return new Answer(response.statusCode(), body, response.body());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpRequest.Builder request(String path, String bearer) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10));
        if (bearer != null) {
            builder.header("Authorization", "Bearer " + bearer);
        }
        return builder;
    }
}
