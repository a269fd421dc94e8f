package dev.ferry.channel;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

import dev.ferry.channel.telegram.TelegramChannel;
import dev.ferry.channel.webchat.WebchatPage;
import dev.ferry.channel.webhook.WebhookChannel;

/**
 * Every channel name a build knows, in one place: the channels it runs, each with how to make one, and the
 * names that messages carry without an adapter here. {@link Channels} makes the adapters; configuration
 * validation takes its channel names from {@link #BUILT_IN}, through {@link RegisteredChannelNames}.
 * A new channel is one more entry, or an entry that gains its adapter. Immutable.
 */
public record ChannelCatalog(List<Entry> entries) {

    /** The channel of {@code chat.send} (SPEC 3.5) unless a web chat page sends it. */
    public static final String CONTROL = "control";
    /** The channel of the web chat page's messages. */
    public static final String WEBCHAT = "webchat";

    /** The channels of this build (SPEC 1). */
    public static final ChannelCatalog BUILT_IN = new ChannelCatalog(List.of(
            // Messages from the control surface: chat.send over POST /rpc, the CLI, a control client.
            Entry.adapter(CONTROL, () -> new ClientChannel(CONTROL, config -> true, null)),
            // A Telegram bot, long-polled: channels.telegram.
            Entry.adapter(TelegramChannel.NAME, TelegramChannel::new),
            // Messages from the web chat page, served at / by the channel, which sends them with chat.send over /ws.
            Entry.adapter(WEBCHAT, () -> new ClientChannel(WEBCHAT, config -> config.channels().webchat().enabled(),
                    new WebchatPage())),
            Entry.adapter(WebhookChannel.NAME, WebhookChannel::new)));

    public ChannelCatalog {
        entries = List.copyOf(entries);
        Set<String> seen = new HashSet<>();
        for (Entry entry : entries) {
            if (!seen.add(entry.name())) {
                throw new IllegalArgumentException("channel " + entry.name() + " is listed twice");
            }
        }
    }

    /** Every name, sorted: what a {@code byChannel} key of the configuration may be. */
    public List<String> names() {
        return entries.stream().map(Entry::name).sorted().toList();
    }

    /** The entries that have an adapter, in their listed order. */
    List<Entry> adapters() {
        return entries.stream().filter(entry -> entry.factory().isPresent()).toList();
    }

    /** How the channel {@code name} is made; empty for a name without an adapter. */
    Optional<Supplier<Channel>> factoryOf(String name) {
        return entries.stream().filter(entry -> entry.name().equals(name)).findFirst().flatMap(Entry::factory);
    }

    /** One channel name, with how its adapter is made when this build has one. */
    public record Entry(String name, Optional<Supplier<Channel>> factory) {

        /** A channel this build runs: {@code factory} makes a new, unstarted instance. */
        public static Entry adapter(String name, Supplier<Channel> factory) {
            return new Entry(name, Optional.of(factory));
        }

        /** A name messages may carry, with no adapter among the channels. */
        public static Entry named(String name) {
            return new Entry(name, Optional.empty());
        }
    }
}
