package dev.ferry.delivery;

import java.time.Duration;

/**
 * What the platform made of one send. {@code reason} says why a send did not deliver, in a few words fit for
 * a log and an RPC answer (never a secret); {@code retryAfter} is the wait the platform asked for before a
 * retry, or null to use the outbox's backoff.
 */
public record SendOutcome(Verdict verdict, String reason, Duration retryAfter) {

    public enum Verdict {
        /** The platform accepted the reply. */
        DELIVERED,
        /** Not now (the platform is down, busy or slow): the same reply is sent again later. */
        RETRY,
        /** Never: the request itself is wrong or the chat is gone. The reply fails, and the session's next goes on. */
        REFUSED
    }

    public static final SendOutcome DELIVERED = new SendOutcome(Verdict.DELIVERED, null, null);

    public static SendOutcome retry(String reason, Duration retryAfter) {
        return new SendOutcome(Verdict.RETRY, reason, retryAfter);
    }

    public static SendOutcome refused(String reason) {
        return new SendOutcome(Verdict.REFUSED, reason, null);
    }
}
