package dev.ferry.channel;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

import dev.ferry.config.FerryConfig;
import dev.ferry.delivery.ReplyTransport;
import dev.ferry.delivery.SendOutcome;

/**
 * A channel whose messages come from the gateway's own clients through {@code chat.send}: the control
 * surface ({@code control}) and the web chat page ({@code webchat}). There is no platform to send to: a
 * reader sees a reply as a {@code chat} event the moment it is committed, and an absent one finds it in
 * {@code chat.history}, so a reply is delivered once it is in the journal. Nothing runs in the background
 * and no configuration but whether it is enabled concerns it. Immutable.
 */
public final class ClientChannel implements Channel {

    /** Committed is read: the reply is in the journal, where history serves it to any reader. */
    private static final ReplyTransport READ_FROM_JOURNAL = reply -> CompletableFuture.completedFuture(SendOutcome.DELIVERED);
    /** Nothing is sent, so there is nothing to bound; the outbox still keeps each session's order. */
    private static final int MAX_CONCURRENT_SENDS = 64;

    private final String name;
    private final Predicate<FerryConfig> enabled;
    private final Optional<ChannelPages> pages;

    /** @param pages what it serves to a browser, such as the page its clients send from; null for none */
    public ClientChannel(String name, Predicate<FerryConfig> enabled, ChannelPages pages) {
        this.name = name;
        this.enabled = enabled;
        this.pages = Optional.ofNullable(pages);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void start(ChannelContext context) {
        // Its messages reach intake through chat.send, not through anything of its own.
    }

    @Override
    public boolean enabledIn(FerryConfig config) {
        return enabled.test(config);
    }

    @Override
    public ChannelChange prepare(FerryConfig next) {
        return ChannelChange.UNCHANGED;
    }

    @Override
    public Optional<ChannelEndpoint> endpoint() {
        return Optional.empty();
    }

    @Override
    public Optional<ChannelPages> pages() {
        return pages;
    }

    @Override
    public Optional<ReplyTransport> replyTransport() {
        return Optional.of(READ_FROM_JOURNAL);
    }

    @Override
    public int maxConcurrentSends() {
        return MAX_CONCURRENT_SENDS;
    }

    @Override
    public void close() {
        // Nothing runs.
    }
}
