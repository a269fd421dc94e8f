package dev.ferry.agent;

import java.util.Locale;

/**
 * Why a backend could not answer a turn, in words safe to show: a backend says what went wrong (the
 * status, the timeout, the exit code) and never what it was sent with (a key, a prompt). A run that fails
 * with one has done every retry worth doing, so the turn is answered with a short error reply at once; a
 * run that fails with anything else is a fault the turn itself retries a few times first.
 */
public final class AgentFailure extends RuntimeException {

    /** What kind of failure, for the error reply, {@code status} and the errors metric. */
    public enum Kind {
        /** Could not connect, or the connection broke. */
        NETWORK,
        /** Connect, first token, silence between chunks, or the whole turn took too long. */
        TIMEOUT,
        /** 429 after every retry. */
        RATE_LIMITED,
        /** 5xx after every retry. */
        SERVER_ERROR,
        /** 401 or 403: the key is wrong or missing. Not retried. */
        UNAUTHORIZED,
        /** 404: an unknown model or a wrong base URL. Not retried. */
        NOT_FOUND,
        /** Any other refusal of the request (a 4xx). Not retried. */
        REFUSED,
        /** The answer could not be read as the protocol says. */
        PROTOCOL,
        /** A local program exited non-zero. */
        EXIT,
        /** A local program printed more than the cap. */
        OUTPUT_TOO_LARGE;

        /** The spelling in {@code status} and the metric's tag. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Kind kind;

    /** @param message what went wrong, safe for logs, status and the user: no secret, no prompt */
    public AgentFailure(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public AgentFailure(Kind kind, String message, Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
