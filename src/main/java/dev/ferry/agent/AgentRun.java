package dev.ferry.agent;

import java.util.concurrent.CompletableFuture;

/** A turn in progress on a backend. */
public interface AgentRun {

    /** Completes with the reply text, or exceptionally when the backend failed or the run was aborted. */
    CompletableFuture<String> reply();

    /**
     * Offers new input to the running turn (SPEC 3.2 {@code steer}). Returns true only if the run will
     * see the text before it produces its reply; a backend that cannot take input mid-turn says false,
     * and the message then waits for a turn of its own. Must not block.
     */
    default boolean steer(String text) {
        return false;
    }

    /** Stops the run; {@link #reply()} then completes exceptionally with a {@code CancellationException}. */
    void abort();
}
