package dev.ferry.queue;

import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.ferry.agent.AgentFailure;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * When a failed turn stops being retried and is answered with a short error reply instead, what that reply
 * says, and the last such failure for {@code status}. A backend's {@link AgentFailure} has done every retry
 * worth doing (a 401 is not worth any), so it ends the turn at once; any other fault is retried until
 * {@link #MAX_ATTEMPTS} attempts failed. Either way the message is accounted for: answered, with an error,
 * never left pending or silently lost. Thread-safe.
 */
final class AgentErrors {

    /** Attempts of a turn failing with a fault the backend did not account for, before it is answered with an error. */
    static final int MAX_ATTEMPTS = 3;
    static final String INTERNAL = "internal";

    private final MeterRegistry metrics;
    private final Map<String, Counter> byKind = new ConcurrentHashMap<>();
    private final AtomicLong answered = new AtomicLong();
    /** Written by whichever turn failed last; read by status. */
    private volatile LastAgentError last;

    AgentErrors(MeterRegistry metrics) {
        this.metrics = metrics;
    }

    /** Whether the turn that failed with {@code error} on its {@code attempts}-th attempt is answered with an error now. */
    boolean endsTheTurn(Throwable error, int attempts) {
        return failureIn(error) != null || attempts >= MAX_ATTEMPTS;
    }

    /** The reply the user gets: what went wrong, in the backend's safe words, or nothing of a fault's. */
    String replyFor(Throwable error) {
        AgentFailure failure = failureIn(error);
        return failure == null
                ? "Sorry, I could not answer that: the agent failed (the gateway's log says why)."
                : "Sorry, I could not answer that: " + failure.getMessage();
    }

    /** What the journal keeps as the messages' reason: answered with an error, and its kind. */
    String reasonFor(Throwable error) {
        return "agent-error: " + kindOf(error);
    }

    /** Counts a turn answered with an error and keeps it as the last. */
    void answered(Throwable error, long turnId, String sessionKey) {
        String kind = kindOf(error);
        AgentFailure failure = failureIn(error);
        last = new LastAgentError(kind, failure == null ? "the agent failed: " + error.getClass().getSimpleName()
                : failure.getMessage(), turnId, sessionKey);
        answered.incrementAndGet();
        byKind.computeIfAbsent(kind, key -> Counter.builder("ferry.turns.error.replies").tag("kind", key)
                .description("Turns answered with an error reply after their last retry, by kind of failure")
                .register(metrics)).increment();
    }

    /**
     * Whether {@code error} says what the last one said: a wrong key fails every turn alike, and the log
     * should say so once, not once a turn.
     */
    boolean sameAsLast(Throwable error) {
        LastAgentError previous = last;
        AgentFailure failure = failureIn(error);
        return previous != null && failure != null && previous.kind().equals(failure.kind().wireName())
                && previous.message().equals(failure.getMessage());
    }

    /** The last turn answered with an error, or null. */
    LastAgentError last() {
        return last;
    }

    /** Turns answered with an error since start. */
    long answeredCount() {
        return answered.get();
    }

    private static String kindOf(Throwable error) {
        AgentFailure failure = failureIn(error);
        return failure == null ? INTERNAL : failure.kind().wireName();
    }

    static AgentFailure failureIn(Throwable error) {
        Throwable cause = error;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause instanceof AgentFailure failure ? failure : null;
    }
}
