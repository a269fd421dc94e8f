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
 * Runs take steered input only after {@link #takeInput} (like a streaming backend), and remember what
 * they were offered and whether they were aborted. Thread-safe; guarded by {@code this} and each run's monitor.
 */
final class ControlledBackend implements AgentBackend {

    static final class Run implements AgentRun {
        private final AgentRequest request;
        private final CompletableFuture<String> reply = new CompletableFuture<>();
        private final boolean takesInput;
        private final List<String> steered = new ArrayList<>();
        private boolean aborted;

        Run(AgentRequest request, boolean takesInput) {
            this.request = request;
            this.takesInput = takesInput;
        }

        AgentRequest request() {
            return request;
        }

        @Override
        public CompletableFuture<String> reply() {
            return reply;
        }

        @Override
        public synchronized boolean steer(String text) {
            if (!takesInput || reply.isDone()) {
                return false;
            }
            steered.add(text);
            return true;
        }

        @Override
        public void abort() {
            synchronized (this) {
                aborted = true;
            }
            reply.completeExceptionally(new CancellationException("aborted"));
        }

        /** Streams a piece of the reply text to the request's observer, as a streaming backend does. */
        void delta(String text) {
            request.observer().onText(text);
        }

        void answer(String text) {
            reply.complete(text);
        }

        void fail(String reason) {
            reply.completeExceptionally(new IllegalStateException(reason));
        }

        void fail(Throwable failure) {
            reply.completeExceptionally(failure);
        }

        /** The texts steered into this run, in order. */
        synchronized List<String> steered() {
            return List.copyOf(steered);
        }

        synchronized boolean aborted() {
            return aborted;
        }
    }

    private final List<Run> runs = new ArrayList<>();
    private boolean takesInput;

    @Override
    public String name() {
        return "controlled";
    }

    @Override
    public synchronized AgentRun start(AgentRequest request) {
        Run run = new Run(request, takesInput);
        runs.add(run);
        return run;
    }

    /** Whether runs started from now on accept steered input. */
    synchronized void takeInput(boolean accepts) {
        this.takesInput = accepts;
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
