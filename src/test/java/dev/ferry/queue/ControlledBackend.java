package dev.ferry.queue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.AgentRequest;
import dev.ferry.agent.AgentRun;

/**
 * A backend whose runs finish when the test says so: each {@code start} is recorded with an open reply.
 * Thread-safe; guarded by {@code this}.
 */
final class ControlledBackend implements AgentBackend {

    record Run(AgentRequest request, CompletableFuture<String> reply) implements AgentRun {
        @Override
        public void abort() {
            reply.completeExceptionally(new CancellationException("aborted"));
        }

        void answer(String text) {
            reply.complete(text);
        }

        void fail(String reason) {
            reply.completeExceptionally(new IllegalStateException(reason));
        }
    }

    private final List<Run> runs = new ArrayList<>();

    @Override
    public String name() {
        return "controlled";
    }

    @Override
    public synchronized AgentRun start(AgentRequest request) {
        Run run = new Run(request, new CompletableFuture<>());
        runs.add(run);
        return run;
    }

    synchronized List<Run> runs() {
        return List.copyOf(runs);
    }

    synchronized Run run(int index) {
        return runs.get(index);
    }

    synchronized Run last() {
        return runs.get(runs.size() - 1);
    }

    synchronized List<String> prompts() {
        return runs.stream().map(run -> run.request().prompt()).toList();
    }

    synchronized List<String> sessions() {
        return runs.stream().map(run -> run.request().sessionKey()).toList();
    }
}
