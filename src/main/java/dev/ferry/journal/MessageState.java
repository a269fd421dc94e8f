package dev.ferry.journal;

/**
 * What became of an accepted message. A message is pending until exactly one of the other three settles
 * it, and a settled message never changes again. {@link #code()} is what an engine stores: it must never
 * change, since journals on disk hold it.
 */
public enum MessageState {
    PENDING(0),
    /** Answered: by a turn's reply, or by a command's. */
    DONE(1),
    /** Dropped by a queue policy, with its reason. */
    DROPPED(2),
    /** Its turn was ended by something newer (an interrupt), with the reason. */
    SUPERSEDED(3);

    private final int code;

    MessageState(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The state stored as {@code code}. */
    public static MessageState of(int code) {
        for (MessageState state : values()) {
            if (state.code == code) {
                return state;
            }
        }
        throw new IllegalArgumentException("no message state has code " + code);
    }
}
