package dev.ferry.journal;

import java.util.Optional;

/**
 * A write refused because this gateway does not hold the session's lease on a shared journal: another
 * gateway holds it, or took it over (a higher epoch) while this one stalled. Nothing of the write is
 * stored; the session's messages stay pending for the gateway that holds it, which runs them.
 */
public final class LeaseLostException extends JournalException {

    public LeaseLostException(String message) {
        super(message, null);
    }

    /** The refusal somewhere in {@code failure}'s cause chain, as a write's future wraps it. */
    public static Optional<LeaseLostException> findIn(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof LeaseLostException lost) {
                return Optional.of(lost);
            }
        }
        return Optional.empty();
    }
}
