package dev.ferry.journal;

/**
 * Where a turn is: open from its start until it completes with a reply or is superseded. {@link #code()}
 * is what an engine stores: it must never change, since journals on disk hold it.
 */
public enum TurnState {
    OPEN(0),
    COMPLETED(1),
    SUPERSEDED(2),
    /** The backend could not answer after every retry: answered with an error reply, outside the transcript. */
    FAILED(3);

    private final int code;

    TurnState(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
