package dev.ferry.agent;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

import dev.ferry.time.Scheduler;

/**
 * The offline, deterministic backend: the reply is {@code "echo: "} followed by the prompt. A
 * configured delay makes each turn take that long, on the scheduler rather than a sleeping thread, so
 * busy sessions can be exercised at no cost.
 */
public final class EchoBackend implements AgentBackend {

    static final String PREFIX = "echo: ";

    private final Scheduler scheduler;
    private final Duration delay;

    public EchoBackend(Scheduler scheduler, Duration delay) {
        this.scheduler = scheduler;
        this.delay = delay;
    }

    @Override
    public String name() {
        return "echo";
    }

    /** Echo answers the prompt alone. */
    @Override
    public boolean readsHistory() {
        return false;
    }

    @Override
    public AgentRun start(AgentRequest request) {
        String text = PREFIX + request.prompt();
        CompletableFuture<String> reply = new CompletableFuture<>();
        if (delay.isZero()) {
            stream(request, reply, text);
            return new Run(reply, () -> {});
        }
        Scheduler.Cancellable timer = scheduler.schedule(delay, () -> stream(request, reply, text));
        return new Run(reply, timer::cancel);
    }

    /** Shows the reply as a streaming backend would, in two pieces, then completes the run with the whole of it. */
    private static void stream(AgentRequest request, CompletableFuture<String> reply, String text) {
        if (reply.isDone()) {
            return;
        }
        request.observer().onText(PREFIX);
        request.observer().onText(request.prompt());
        reply.complete(text);
    }

    private record Run(CompletableFuture<String> reply, Runnable cancelTimer) implements AgentRun {
        @Override
        public void abort() {
            cancelTimer.run();
            reply.completeExceptionally(new CancellationException("turn aborted"));
        }
    }
}
