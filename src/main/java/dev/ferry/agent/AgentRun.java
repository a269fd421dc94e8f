package dev.ferry.agent;

import java.util.concurrent.CompletableFuture;

/** A turn in progress on a backend. */
public interface AgentRun {

    /** Completes with the reply text, or exceptionally when the backend failed or the run was aborted. */
    CompletableFuture<String> reply();

    /** Stops the run; {@link #reply()} then completes exceptionally with a {@code CancellationException}. */
    void abort();
}
