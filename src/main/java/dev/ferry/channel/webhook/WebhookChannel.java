package dev.ferry.channel.webhook;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.channel.Channel;
import dev.ferry.channel.ChannelChange;
import dev.ferry.channel.ChannelContext;
import dev.ferry.channel.ChannelEndpoint;
import dev.ferry.config.FerryConfig;
import dev.ferry.config.Secret;
import dev.ferry.config.WebhookConfig;
import dev.ferry.delivery.ReplyTransport;
import dev.ferry.intake.IntakeResponse;

/**
 * The webhook channel (SPEC 3.5): {@value #PATH} in, through {@link WebhookInbound}; replies out to
 * {@code channels.webhook.replyUrl}, through {@link WebhookReplyTransport}. Without a token of its own
 * the gateway token guards it; without either it accepts any sender, which a loopback bind allows.
 * A change of its settings or of the gateway token is prepared as a new inbound side and transport and
 * swapped in on commit. Thread-safe: the committed state is one immutable value in a volatile field,
 * written only by the life-cycle thread.
 */
public final class WebhookChannel implements Channel {

    public static final String NAME = WebhookPayload.CHANNEL;
    static final String PATH = "/channels/webhook/inbound";

    private final ChannelEndpoint endpoint = new Endpoint();
    /** Set once by {@link #start}, before any prepare. */
    private volatile ChannelContext context;
    /** What the last commit made; its inbound side is null while the channel is disabled. */
    private volatile Applied applied = Applied.NOTHING;

    /** One committed configuration and what was built from it. */
    private record Applied(WebhookConfig config, Secret gatewayToken, WebhookInbound inbound, ReplyTransport transport) {
        static final Applied NOTHING = new Applied(null, null, null, null);
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
        return config.channels().webhook().enabled();
    }

    @Override
    public ChannelChange prepare(FerryConfig next) {
        WebhookConfig now = next.channels().webhook();
        Secret gatewayToken = next.gateway().authToken();
        Applied was = applied;
        if (now.equals(was.config()) && gatewayToken.equals(was.gatewayToken())) {
            return ChannelChange.UNCHANGED;
        }
        Applied prepared;
        if (!now.enabled()) {
            prepared = new Applied(now, gatewayToken, null, null);
        } else {
            ChannelContext shared = Objects.requireNonNull(context, "webhook channel not started");
            WebhookInbound inbound = new WebhookInbound(shared.intake(),
                    now.token().isPresent() ? now.token() : gatewayToken, shared.wallClock());
            ReplyTransport transport = now.replyUrl() == null ? null
                    : new WebhookReplyTransport(shared.httpClient().get(), URI.create(now.replyUrl()));
            prepared = new Applied(now, gatewayToken, inbound, transport);
        }
        // Nothing prepared holds a resource of its own (the HTTP client is shared), so a discard has nothing to release.
        return ChannelChange.inPlace(() -> applied = prepared, () -> {});
    }

    @Override
    public Optional<ChannelEndpoint> endpoint() {
        return Optional.of(endpoint);
    }

    @Override
    public Optional<ReplyTransport> replyTransport() {
        return Optional.ofNullable(applied.transport());
    }

    @Override
    public int maxConcurrentSends() {
        WebhookConfig config = applied.config();
        return config == null ? WebhookConfig.DEFAULT_MAX_CONCURRENT_SENDS : config.maxConcurrentSends();
    }

    /** Nothing runs in the background: the endpoint simply stops being served. */
    @Override
    public void close() {
        // The HTTP layer stops calling the endpoint; the shared HTTP client belongs to the gateway.
    }

    /** The one endpoint of the channel's life; each request goes to the inbound side committed last. */
    private final class Endpoint implements ChannelEndpoint {

        @Override
        public String path() {
            return PATH;
        }

        @Override
        public CompletableFuture<IntakeResponse> handle(Headers headers, byte[] body) {
            WebhookInbound inbound = applied.inbound();
            if (inbound == null) {
                // Disabled by a reload after the HTTP layer looked the endpoint up: answered as it would now be.
                return CompletableFuture.completedFuture(disabled());
            }
            return inbound.handle(headers.get("Authorization"), body);
        }
    }

    private static IntakeResponse disabled() {
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("ok", false);
        body.putObject("error").put("code", "CHANNEL_DISABLED").put("message", "the webhook channel is not enabled");
        return new IntakeResponse(404, body);
    }
}
