package dev.ferry.channel.telegram;

import java.util.Objects;
import java.util.Optional;

import dev.ferry.channel.Channel;
import dev.ferry.channel.ChannelChange;
import dev.ferry.channel.ChannelContext;
import dev.ferry.channel.ChannelEndpoint;
import dev.ferry.channel.ChannelStatus;
import dev.ferry.config.FerryConfig;
import dev.ferry.config.Secret;
import dev.ferry.config.TelegramConfig;
import dev.ferry.delivery.ReplyTransport;

/**
 * The Telegram channel: one bot, polled by an {@link UpdatePoller}, answered through {@link TelegramReplies}.
 * A change to {@code channels.telegram} is prepared as a new poller and transport (a missing token fails
 * the prepare) and swapped in on commit: the old poller stops, and the new one resumes from the offset the
 * journal stored, so no update is lost or answered twice, and no other channel pauses. Thread-safe: the
 * committed state is one immutable value in a volatile field, written only by the life-cycle thread.
 */
public final class TelegramChannel implements Channel {

    public static final String NAME = "telegram";
    /** One bot per gateway for now; the account every Telegram message carries. */
    static final String ACCOUNT = "default";

    private volatile ChannelContext context;
    private volatile Applied applied = Applied.NOTHING;

    /** One committed configuration and what runs for it; the poller and transport are null while disabled. */
    private record Applied(TelegramConfig config, Secret token, UpdatePoller poller, TelegramReplies replies, Typing typing) {
        static final Applied NOTHING = new Applied(null, null, null, null, null);

        void stop() {
            if (poller != null) {
                poller.close();
                typing.close();
            }
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void start(ChannelContext context) {
        this.context = context;
    }

    @Override
    public boolean enabledIn(FerryConfig config) {
        return config.channels().telegram().enabled();
    }

    @Override
    public ChannelChange prepare(FerryConfig next) {
        TelegramConfig now = next.channels().telegram();
        ChannelContext shared = Objects.requireNonNull(context, "telegram channel not started");
        Secret token = now.enabled() ? tokenOf(now, shared) : Secret.NONE;
        Applied was = applied;
        if (now.equals(was.config()) && token.equals(was.token())) {
            return ChannelChange.UNCHANGED;
        }
        if (!now.enabled()) {
            Applied disabled = new Applied(now, token, null, null, null);
            return ChannelChange.inPlace(() -> swap(disabled), () -> {});
        }
        BotApi api = new BotApi(shared.httpClient().get(), now.apiBaseUrl(), token);
        Typing typing = new Typing(api, shared.scheduler());
        UpdatePoller poller = new UpdatePoller(api, shared.intake(), shared.scheduler(), shared.wallClock(), now, ACCOUNT,
                typing, shared.metrics());
        Applied prepared = new Applied(now, token, poller, new TelegramReplies(api, typing), typing);
        // Nothing runs until the commit starts the poller, so a discard has nothing to stop.
        return ChannelChange.inPlace(() -> swap(prepared), () -> {});
    }

    /** The old poller stops before the new one starts, so that two never poll the bot at once. */
    private void swap(Applied next) {
        Applied was = applied;
        was.stop();
        applied = next;
        if (next.poller() != null) {
            next.poller().start();
        }
    }

    /** {@code botToken}, else the variable {@code botTokenEnv} names; a channel enabled without either cannot start. */
    private static Secret tokenOf(TelegramConfig config, ChannelContext context) {
        if (config.botToken().isPresent()) {
            return config.botToken();
        }
        String fromEnvironment = config.botTokenEnv() == null ? null : context.environment().apply(config.botTokenEnv());
        if (fromEnvironment == null || fromEnvironment.isBlank()) {
            throw new IllegalArgumentException("channels.telegram: enabled without a bot token: set channels.telegram.botToken,"
                    + " or the environment variable " + config.botTokenEnv());
        }
        return Secret.of(fromEnvironment.strip());
    }

    @Override
    public Optional<ChannelEndpoint> endpoint() {
        return Optional.empty();
    }

    @Override
    public Optional<ReplyTransport> replyTransport() {
        return Optional.ofNullable(applied.replies());
    }

    @Override
    public int maxConcurrentSends() {
        // Telegram allows about 30 messages a second per bot; the outbox keeps each session's replies in order.
        return 8;
    }

    @Override
    public Optional<ChannelStatus> status() {
        Applied now = applied;
        return now.poller() == null ? Optional.empty() : Optional.of(now.poller().status());
    }

    @Override
    public void close() {
        Applied was = applied;
        applied = Applied.NOTHING;
        was.stop();
    }
}
