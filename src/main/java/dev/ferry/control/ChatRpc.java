package dev.ferry.control;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.channel.ChannelCatalog;
import dev.ferry.config.FerryConfig;
import dev.ferry.intake.Identifiers;
import dev.ferry.intake.Intake;
import dev.ferry.intake.InvisibleText;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.session.SessionKeys;
import dev.ferry.time.WallClock;

/**
 * {@code chat.send} and {@code chat.history} (SPEC 3.5): a conversation with the agent from the gateway's
 * own clients. A message goes through {@link Intake} like any channel's, so it is answered only once
 * committed, and a repeated {@code messageId} is a duplicate that never starts a second turn. Its channel
 * is {@code control}, or {@code webchat} for the web chat page. The reply comes to the sender as an event
 * and stays in the history. Thread-safe.
 */
public final class ChatRpc {

    /** The account of a message from a client: there is one gateway, so one account. */
    static final String ACCOUNT = "default";
    /** A chat message, not a document: the agent's context is the limit that matters, and this is far below it. */
    static final int MAX_TEXT_CHARS = 64 * 1024;
    private static final List<String> CHANNELS = List.of(ChannelCatalog.CONTROL, ChannelCatalog.WEBCHAT);

    private final Intake intake;
    private final Journal journal;
    private final Supplier<FerryConfig> config;
    private final WallClock clock;

    /** @param config the configuration in force, read on every call so a reload changes scope and channels */
    public ChatRpc(Intake intake, Journal journal, Supplier<FerryConfig> config, WallClock clock) {
        this.intake = intake;
        this.journal = journal;
        this.config = config;
        this.clock = clock;
    }

    void register(RpcMethods methods) {
        methods.add("chat.send", this::send).addSync("chat.history", this::history);
    }

    /** {@code {seq, duplicate, conversation, messageId}} once the message is in the journal. */
    private CompletableFuture<JsonNode> send(ObjectNode params) {
        String channel = channel(params);
        String conversation = identifier(params, "conversation", null);
        String text = text(params);
        String sender = identifier(params, "sender", channel);
        String messageId = identifier(params, "messageId", UUID.randomUUID().toString());
        var message = new InboundMessage(0, channel, ACCOUNT, conversation, sender, messageId, text, null, null,
                List.of(), clock.epochMillis());
        return intake.accept(message).thenApply(result -> Json.object()
                .put("seq", result.seq())
                .put("duplicate", result.duplicate())
                .put("channel", channel)
                .put("conversation", conversation)
                .put("messageId", messageId));
    }

    /**
     * One session's exchanges, oldest first, each with its reply's id, so a client that missed events
     * adds exactly the replies it lacks. By {@code sessionKey}, or by {@code conversation} (with
     * {@code channel} and {@code sender} where the session scope needs them).
     */
    private JsonNode history(ObjectNode params) {
        String sessionKey;
        String conversation = null;
        if (params.hasNonNull("sessionKey")) {
            sessionKey = Params.requiredText(params, "sessionKey", "sessions.list");
        } else if (params.hasNonNull("conversation")) {
            String channel = channel(params);
            conversation = identifier(params, "conversation", null);
            String sender = identifier(params, "sender", channel);
            sessionKey = sessionKeyOf(channel, conversation, sender);
        } else {
            throw RpcException.invalidParams("params: give conversation or sessionKey (see sessions.list)");
        }
        ArrayNode exchanges = Json.MAPPER.createArrayNode();
        journal.transcript(sessionKey, Params.limit(params)).forEach(exchange -> {
            ObjectNode row = exchanges.addObject()
                    .put("turnId", exchange.turnId())
                    .put("replyId", exchange.replyId())
                    .put("prompt", exchange.prompt())
                    .put("reply", exchange.reply())
                    .put("completedAtEpochMs", exchange.completedAtEpochMs());
            exchange.inReplyTo().forEach(row.putArray("inReplyTo")::add);
        });
        ObjectNode payload = Json.object().put("sessionKey", sessionKey);
        if (conversation != null) {
            payload.put("conversation", conversation);
        }
        payload.set("exchanges", exchanges);
        return payload;
    }

    /** The session a message from {@code sender} in {@code conversation} belongs to, under the scope in force. */
    private String sessionKeyOf(String channel, String conversation, String sender) {
        var probe = new InboundMessage(0, channel, ACCOUNT, conversation, sender, "", "", null, null, List.of(), 0);
        return SessionKeys.of(config.get().session().scope(), probe);
    }

    private String channel(ObjectNode params) {
        JsonNode node = params.get("channel");
        if (node == null || node.isNull()) {
            return ChannelCatalog.CONTROL;
        }
        if (!node.isTextual() || !CHANNELS.contains(node.textValue())) {
            throw RpcException.invalidParams("params.channel: must be one of " + String.join(", ", CHANNELS)
                    + ", got " + node);
        }
        String channel = node.textValue();
        if (channel.equals(ChannelCatalog.WEBCHAT) && !config.get().channels().webchat().enabled()) {
            throw new RpcException("CHANNEL_DISABLED", 404, "the webchat channel is not enabled (channels.webchat.enabled)");
        }
        return channel;
    }

    /** An id-like string param, trimmed; {@code fallback} when absent, or required when that is null. */
    private static String identifier(ObjectNode params, String name, String fallback) {
        JsonNode node = params.get(name);
        if (node == null || node.isNull()) {
            if (fallback == null) {
                throw RpcException.invalidParams("params." + name + ": required");
            }
            return fallback;
        }
        if (!(node.isTextual() || node.isIntegralNumber())) {
            throw RpcException.invalidParams("params." + name + ": must be a string, got " + node.getNodeType().name().toLowerCase());
        }
        String value = node.asText().trim();
        String problem = Identifiers.problem(value);
        if (problem != null) {
            throw RpcException.invalidParams("params." + name + ": " + problem);
        }
        return value;
    }

    private static String text(ObjectNode params) {
        JsonNode node = params.get("text");
        if (node == null || node.isNull()) {
            throw RpcException.invalidParams("params.text: required");
        }
        if (!node.isTextual()) {
            throw RpcException.invalidParams("params.text: must be a string, got " + node.getNodeType().name().toLowerCase());
        }
        String text = node.textValue();
        if (text.isBlank() || InvisibleText.isInvisible(text.trim())) {
            throw RpcException.invalidParams("params.text: must not be blank");
        }
        if (text.length() > MAX_TEXT_CHARS) {
            throw RpcException.invalidParams("params.text: must be at most " + MAX_TEXT_CHARS + " characters, got "
                    + text.length());
        }
        return text;
    }
}
