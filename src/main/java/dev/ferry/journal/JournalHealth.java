package dev.ferry.journal;

/**
 * Whether the journal can take writes now and, when it cannot, why, in words for the operator
 * ({@code status} shows both). {@code problem} is null exactly when the state is {@link State#WRITABLE}.
 */
public record JournalHealth(State state, String problem) {

    public static final JournalHealth OK = new JournalHealth(State.WRITABLE, null);

    public enum State {
        WRITABLE,
        /** The file system is full; it clears by itself at the next write that commits once space is freed. */
        DISK_FULL,
        /** The file was removed or replaced under the running journal; only a restart clears it. */
        FILE_LOST
    }

    public JournalHealth {
        if ((state == State.WRITABLE) != (problem == null)) {
            throw new IllegalArgumentException("a problem is named exactly when the journal is not writable");
        }
    }

    public boolean writable() {
        return state == State.WRITABLE;
    }
}
