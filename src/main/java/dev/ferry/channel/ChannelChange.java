package dev.ferry.channel;

/**
 * What a new configuration changes for one channel, prepared without visible effect: nothing to do, a
 * change the channel makes in place when committed, or a rebuild ({@link Channels} then makes a new
 * instance, prepares it, and swaps it in on commit). Exactly one of {@link #commit()} and
 * {@link #discard()} is called, once. {@code commit} must not fail: what can fail belongs in the prepare.
 */
public final class ChannelChange {

    /** The channel takes the new configuration as it is. */
    public static final ChannelChange UNCHANGED = new ChannelChange(Kind.UNCHANGED, () -> {}, () -> {});
    /** Only a new instance of the channel can take the new configuration. */
    public static final ChannelChange REBUILD = new ChannelChange(Kind.REBUILD, () -> {}, () -> {});

    /** The three outcomes of a prepare. */
    public enum Kind { UNCHANGED, IN_PLACE, REBUILD }

    private final Kind kind;
    private final Runnable onCommit;
    private final Runnable onDiscard;

    private ChannelChange(Kind kind, Runnable onCommit, Runnable onDiscard) {
        this.kind = kind;
        this.onCommit = onCommit;
        this.onDiscard = onDiscard;
    }

    /**
     * A change the channel applies to itself: {@code commit} makes it visible (swaps in what was
     * prepared), {@code discard} releases what was prepared for it.
     */
    public static ChannelChange inPlace(Runnable commit, Runnable discard) {
        return new ChannelChange(Kind.IN_PLACE, commit, discard);
    }

    public Kind kind() {
        return kind;
    }

    public void commit() {
        onCommit.run();
    }

    public void discard() {
        onDiscard.run();
    }

    @Override
    public String toString() {
        return kind.name();
    }
}
