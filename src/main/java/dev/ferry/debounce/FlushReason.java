package dev.ferry.debounce;

/** Why a batch left the debouncer; a metrics tag. */
public enum FlushReason {
    /** The window passed with no new message for the key. */
    TIMER,
    /** A steady stream kept restarting the window until {@code maxWaitMs} after the first message. */
    MAX_WAIT,
    /** The batch reached {@code maxBatch} messages. */
    MAX_BATCH,
    /** A message that is never debounced (media, empty text, a command) flushed the key and went itself. */
    BYPASS,
    /** {@code flushAll}, for a reload, a stop or a closing channel. */
    FLUSH_ALL,
    /** Debouncing is off for the channel, or the tracked-key cap was reached. */
    IMMEDIATE;

    public String tag() {
        return name().toLowerCase().replace('_', '-');
    }
}
