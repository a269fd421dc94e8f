package dev.ferry.channel;

import java.util.concurrent.CompletableFuture;

import dev.ferry.intake.IntakeResponse;

/**
 * A channel's HTTP intake: a {@code POST} with a JSON body at a fixed path. The HTTP layer finds it by its
 * path, answers what is not a {@code POST} of JSON, reads the body within the size limit, and only then
 * calls {@link #handle}; it writes the answer when the future completes, on whichever thread completes it.
 * Thread-safe; {@code handle} must not block.
 */
public interface ChannelEndpoint {

    /** Where it is served, such as {@code /channels/<name>/inbound}; never changes. */
    String path();

    /**
     * Answers one request; completes with the answer, and fails only for a fault, which the HTTP layer
     * answers as a JSON 500.
     */
    CompletableFuture<IntakeResponse> handle(Headers headers, byte[] body);

    /** The request's headers, by name in any case; null for a header that is absent. */
    @FunctionalInterface
    interface Headers {
        String get(String name);
    }
}
