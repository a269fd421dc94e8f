package dev.ferry.channel;

import java.util.Optional;

import dev.ferry.config.FerryConfig;
import dev.ferry.delivery.ReplyTransport;

/**
 * One kind of transport to a messaging platform (SPEC 1): what it takes in goes to
 * {@link ChannelContext#intake()}, and the replies of its conversations leave through its
 * {@link #replyTransport()}. A channel is made once per gateway, started with its context, and then
 * configured only through changes it prepared itself: it takes nothing in and sends nothing until the
 * first committed change enables it. {@link Channels} owns every channel, its debouncer and its place in
 * the outbox. Called by one thread at a time for its life cycle (start, prepare, commit, close); its
 * endpoint and transport are called from any thread.
 */
public interface Channel extends AutoCloseable {

    /** The channel's name as messages, {@code channels.<name>} and {@code byChannel} keys carry it. */
    String name();

    /** Attaches the channel to the gateway's shared parts; no visible effect: nothing is served or sent yet. */
    void start(ChannelContext context);

    /** Whether {@code config} has this channel take messages. */
    boolean enabledIn(FerryConfig config);

    /**
     * Prepares what {@code next} changes for this channel, without any visible effect: anything that can
     * fail (a bad URL, a missing token) fails here, and until {@link ChannelChange#commit()} the channel
     * runs on as it was. Returns {@link ChannelChange#UNCHANGED} when {@code next} changes nothing for it,
     * or {@link ChannelChange#REBUILD} when only a new instance can take the change.
     */
    ChannelChange prepare(FerryConfig next);

    /**
     * Its HTTP endpoint, the same object for the channel's life and present whether or not the channel is
     * enabled (a disabled channel's path is answered {@code 404 CHANNEL_DISABLED} without calling it);
     * empty for a channel that serves no path, such as a poller.
     */
    Optional<ChannelEndpoint> endpoint();

    /** The files it serves to a browser while enabled (a page of its own); empty for most channels. */
    default Optional<ChannelPages> pages() {
        return Optional.empty();
    }

    /** How it is doing, for a channel that runs something of its own; empty for one that only serves or sends. */
    default Optional<ChannelStatus> status() {
        return Optional.empty();
    }

    /** How its replies are sent under the committed configuration; empty: replies wait in the outbox. */
    Optional<ReplyTransport> replyTransport();

    /** How many of its replies may be on their way at once, under the committed configuration. */
    int maxConcurrentSends();

    /** Stops whatever it runs (a poller, a connection); what was journaled stays journaled. Idempotent. */
    @Override
    void close();
}
