package dev.ferry.journal;

import java.util.Optional;

/**
 * The journal cannot take writes for now (its disk is full, or its file was removed or replaced while
 * running), so nothing may be acknowledged: intake answers 503 with this message until it recovers.
 */
public final class JournalUnavailableException extends JournalException {

    public JournalUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The unavailability somewhere in {@code failure}'s cause chain, as a write's future wraps it. */
    public static Optional<JournalUnavailableException> findIn(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof JournalUnavailableException unavailable) {
                return Optional.of(unavailable);
            }
        }
        return Optional.empty();
    }
}
