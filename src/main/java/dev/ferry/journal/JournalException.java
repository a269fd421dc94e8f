package dev.ferry.journal;

/** The journal cannot be opened or written: a fault the operator must look at, never a reason to start empty. */
public class JournalException extends RuntimeException {

    public JournalException(String message, Throwable cause) {
        super(message, cause);
    }
}
