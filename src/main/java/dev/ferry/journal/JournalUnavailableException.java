package dev.ferry.journal;

/**
 * The journal cannot take writes for now (its disk is full, or its file was removed or replaced while
 * running), so nothing may be acknowledged: intake answers 503 with this message until it recovers.
 */
public final class JournalUnavailableException extends JournalException {

    public JournalUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
