package dev.ferry.channel.webhook;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.config.Secret;
import dev.ferry.journal.JournalUnavailableException;
import dev.ferry.intake.BearerToken;
import dev.ferry.intake.Intake;
import dev.ferry.intake.IntakeResponse;
import dev.ferry.intake.StrictJson;
import dev.ferry.time.WallClock;

/**
 * The inbound side of the webhook channel: authorise, parse, journal, answer. {@code 202} means the
 * message is committed; {@code 200} with {@code duplicate:true} means it was committed before; {@code 503}
 * means the journal cannot take writes for now and nothing was stored. Any refusal happens before the
 * journal is touched. A message's receive time is read from the wall clock it is given. Thread-safe and
 * immutable: a new token comes with a new instance.
 */
public final class WebhookInbound {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Intake intake;
    private final Secret token;
    private final WallClock clock;

    /** @param token the bearer token senders must present; {@link Secret#NONE} accepts any sender */
    public WebhookInbound(Intake intake, Secret token, WallClock clock) {
        this.intake = intake;
        this.token = token;
        this.clock = clock;
    }

    /** Completes with the answer; fails only for a fault that is not the journal being unavailable. */
    public CompletableFuture<IntakeResponse> handle(String authorizationHeader, byte[] body) {
        if (token.isPresent() && !BearerToken.matches(token, authorizationHeader)) {
            String reason = authorizationHeader == null ? "missing bearer token" : "invalid bearer token";
            return CompletableFuture.completedFuture(error(401, "UNAUTHORIZED", reason));
        }
        StrictJson.Read read = StrictJson.read(body);
        if (!read.ok()) {
            return CompletableFuture.completedFuture(error(400, "INVALID_JSON", read.error()));
        }
        var parsed = WebhookPayload.parse(read.value(), clock.epochMillis());
        if (parsed.message() == null) {
            return CompletableFuture.completedFuture(invalid(parsed.errors()));
        }
        return intake.accept(parsed.message()).handle((result, failure) -> {
            if (failure != null) {
                return unavailable(failure);
            }
            ObjectNode answer = JSON.createObjectNode().put("accepted", true).put("duplicate", result.duplicate());
            if (result.duplicate()) {
                return new IntakeResponse(200, answer);
            }
            return new IntakeResponse(202, answer.put("seq", result.seq()));
        });
    }

    /** A journal that cannot take writes is an answer (503, retry later); any other failure stays a fault. */
    private static IntakeResponse unavailable(Throwable failure) {
        var unavailable = JournalUnavailableException.findIn(failure).orElseThrow(() ->
                failure instanceof CompletionException completion ? completion : new CompletionException(failure));
        IntakeResponse refused = error(503, "JOURNAL_UNAVAILABLE", unavailable.getMessage());
        return new IntakeResponse(503, refused.body(), Intake.RETRY_UNAVAILABLE_AFTER_SECONDS);
    }

    private static IntakeResponse invalid(List<String> errors) {
        IntakeResponse response = error(400, "INVALID_REQUEST", String.join("; ", errors));
        ((ObjectNode) response.body().get("error")).set("details", JSON.valueToTree(errors));
        return response;
    }

    private static IntakeResponse error(int status, String code, String message) {
        ObjectNode body = JSON.createObjectNode().put("accepted", false);
        body.putObject("error").put("code", code).put("message", message);
        return new IntakeResponse(status, body);
    }
}
