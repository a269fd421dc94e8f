package dev.ferry.queue;

/**
 * Why a session's turn ends without a reply. An interrupt or {@code /stop} supersedes the turn, and its
 * messages are journaled with {@link #journalReason()}; a reload parks it, to run again as the same turn.
 */
enum AbortCause {
    /** Not aborting: the session is in any phase but {@link TurnPhase#ABORTING}. */
    NONE(""),
    /** A message in {@code interrupt} mode replaced the turn. */
    INTERRUPT("interrupted"),
    /** {@code /stop} ended the turn and cleared the queue. */
    STOP("stopped"),
    /** A reload or stop of the gateway: not a supersede, the turn keeps its messages and its reply id. */
    RELOAD("reload");

    private final String journalReason;

    AbortCause(String journalReason) {
        this.journalReason = journalReason;
    }

    /** The reason the journal, metrics and events carry, unchanged since before causes were an enum. */
    String journalReason() {
        return journalReason;
    }

    /** The turn runs again later instead of being superseded. */
    boolean parks() {
        return this == RELOAD;
    }
}
