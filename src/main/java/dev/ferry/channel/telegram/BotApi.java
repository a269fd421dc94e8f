package dev.ferry.channel.telegram;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.config.Secret;

/**
 * One bot's Bot API calls: {@code POST <apiBaseUrl>/bot<token>/<method>} with a JSON body, answered as a
 * {@link BotResponse}. The token is part of every URL, so nothing this class gives out (a response, a
 * failure's message) names the URL, and any text that came back carrying the token has it masked: the
 * JDK client's own exceptions are replaced by {@link BotApiException} with a message of our own.
 * Thread-safe and immutable; calls run on the HTTP client's threads.
 */
final class BotApi {

    static final ObjectMapper JSON = new ObjectMapper();
    /** Stands for the token wherever a text might have carried it. */
    static final String MASK = "<bot-token>";
    /** Added to a long poll's own timeout, so that the server's empty answer arrives before ours fires. */
    private static final Duration POLL_MARGIN = Duration.ofSeconds(10);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(20);

    private final HttpClient http;
    private final String base;
    private final Secret token;

    BotApi(HttpClient http, String apiBaseUrl, Secret token) {
        this.http = http;
        this.base = apiBaseUrl.endsWith("/") ? apiBaseUrl.substring(0, apiBaseUrl.length() - 1) : apiBaseUrl;
        this.token = token;
    }

    /** A call answered at once (not a long poll). */
    CompletableFuture<BotResponse> call(String method, ObjectNode params) {
        return call(method, params, CALL_TIMEOUT);
    }

    /** {@code getUpdates} holding for up to {@code pollTimeoutS} seconds on the server. */
    CompletableFuture<BotResponse> poll(ObjectNode params, int pollTimeoutS) {
        return call("getUpdates", params, Duration.ofSeconds(pollTimeoutS).plus(POLL_MARGIN));
    }

    private CompletableFuture<BotResponse> call(String method, ObjectNode params, Duration timeout) {
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(URI.create(base + "/bot" + token.reveal() + "/" + method))
                    .timeout(timeout)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(params)))
                    .build();
        } catch (IllegalArgumentException | JsonProcessingException e) {
            // URI.create quotes the URL it refuses, so the cause is dropped, not wrapped.
            return CompletableFuture.failedFuture(new BotApiException(method + ": the request could not be formed"));
        }
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .handle((response, failure) -> {
                    if (failure != null) {
                        throw new CompletionException(new BotApiException(method + ": " + describe(failure)));
                    }
                    return BotResponse.of(response.statusCode(), response.body(), this::masked);
                });
    }

    /** The failure in a few words of our own: the JDK's messages may quote the request's URI. */
    private static String describe(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof HttpTimeoutException) {
            return "timed out";
        }
        if (cause instanceof ConnectException) {
            return "connection refused or unreachable";
        }
        if (cause instanceof IOException) {
            return "connection failed (" + cause.getClass().getSimpleName() + ")";
        }
        return "failed (" + cause.getClass().getSimpleName() + ")";
    }

    /** {@code text} with the token masked, should a server have echoed it. */
    String masked(String text) {
        return text == null || !token.isPresent() ? text : text.replace(token.reveal(), MASK);
    }

    /** A call that got no answer from the Bot API at all (unreachable, dropped, timed out). */
    static final class BotApiException extends RuntimeException {
        BotApiException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * What the Bot API answered: {@code ok} with its {@code result}, or the error's code, description and
     * {@code parameters.retry_after}. A body that is not the API's JSON is an error with the HTTP status.
     */
    record BotResponse(int status, boolean ok, JsonNode result, int errorCode, String description, Duration retryAfter) {

        static BotResponse of(int status, String body, UnaryOperator<String> mask) {
            JsonNode json;
            try {
                json = JSON.readTree(body);
            } catch (JsonProcessingException e) {
                json = null;
            }
            if (json == null || !json.isObject() || !json.path("ok").isBoolean()) {
                return new BotResponse(status, false, null, status, "HTTP " + status + " without a Bot API answer", null);
            }
            if (json.get("ok").asBoolean()) {
                return new BotResponse(status, true, json.path("result"), 0, null, null);
            }
            JsonNode retry = json.path("parameters").path("retry_after");
            return new BotResponse(status, false, null, json.path("error_code").asInt(status),
                    mask.apply(json.path("description").asText("no description")),
                    retry.canConvertToLong() ? Duration.ofSeconds(Math.max(0, retry.asLong())) : null);
        }

        /** The error in a few words for a log, a status and a failed reply: its code and the API's description. */
        String error() {
            return errorCode + " " + description;
        }
    }
}
