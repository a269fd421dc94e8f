package dev.ferry.control.ws;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.channel.ChannelCatalog;
import dev.ferry.events.GatewayEvent;

/**
 * What a client follows, as {@code connect} asks for it: its channel, the conversations it names, every
 * conversation, status events. A conversation is followed by its channel and id together, since the same
 * id on two channels is two conversations. Immutable.
 */
record Follows(String channel, List<String> keys, boolean all, boolean status) {

    private static final List<String> CHANNELS = List.of(ChannelCatalog.CONTROL, ChannelCatalog.WEBCHAT);
    /** More than any page or program follows; a client that wants more follows all. */
    private static final int MAX_CONVERSATIONS = 1000;

    Follows {
        keys = List.copyOf(keys);
    }

    /** @throws IllegalArgumentException naming the param that is wrong */
    static Follows read(JsonNode params, String defaultChannel) {
        if (params == null || params.isNull()) {
            return new Follows(defaultChannel, List.of(), false, false);
        }
        String channel = defaultChannel;
        JsonNode named = params.get("channel");
        if (named != null && !named.isNull()) {
            if (!named.isTextual() || !CHANNELS.contains(named.textValue())) {
                throw new IllegalArgumentException("params.channel: must be one of " + String.join(", ", CHANNELS)
                        + ", got " + named);
            }
            channel = named.textValue();
        }
        JsonNode subscribe = params.get("subscribe");
        if (subscribe == null || subscribe.isNull()) {
            return new Follows(channel, List.of(), false, false);
        }
        if (!subscribe.isObject()) {
            throw new IllegalArgumentException("params.subscribe: must be an object {conversations, all, status}");
        }
        List<String> keys = new ArrayList<>();
        JsonNode conversations = subscribe.get("conversations");
        if (conversations != null && !conversations.isNull()) {
            if (!conversations.isArray() || conversations.size() > MAX_CONVERSATIONS) {
                throw new IllegalArgumentException("params.subscribe.conversations: must be a list of at most "
                        + MAX_CONVERSATIONS + " conversation ids");
            }
            for (int i = 0; i < conversations.size(); i++) {
                JsonNode conversation = conversations.get(i);
                if (!conversation.isTextual() || conversation.textValue().isBlank()) {
                    throw new IllegalArgumentException("params.subscribe.conversations[" + i + "]: must be a non-blank string");
                }
                keys.add(key(channel, conversation.textValue().trim()));
            }
        }
        return new Follows(channel, keys, flag(subscribe, "all"), flag(subscribe, "status"));
    }

    private static boolean flag(JsonNode subscribe, String name) {
        JsonNode node = subscribe.get(name);
        if (node == null || node.isNull()) {
            return false;
        }
        if (!node.isBoolean()) {
            throw new IllegalArgumentException("params.subscribe." + name + ": must be true or false, got " + node);
        }
        return node.booleanValue();
    }

    /** The methods whose conversation a client follows from the call on. */
    static boolean isChat(String method) {
        return "chat.send".equals(method) || "chat.history".equals(method);
    }

    static String key(String channel, String conversation) {
        return channel + '\n' + conversation;
    }

    /** The conversation an event of a conversation belongs to, or null for one no client follows. */
    static String keyOf(GatewayEvent event) {
        if (event instanceof GatewayEvent.TextDelta delta) {
            return key(delta.channel(), delta.conversation());
        } else if (event instanceof GatewayEvent.ReplyCommitted reply) {
            return key(reply.channel(), reply.conversation());
        } else if (event instanceof GatewayEvent.QueueChanged queue) {
            return key(queue.channel(), queue.conversation());
        } else if (event instanceof GatewayEvent.TextRestarted restarted) {
            return key(restarted.channel(), restarted.conversation());
        } else if (event instanceof GatewayEvent.TurnStarted started) {
            return key(started.channel(), started.conversation());
        }
        return null;
    }

    /** Whether a client sees this event as a {@code chat} or {@code queue} frame. */
    static boolean carriesChat(GatewayEvent event) {
        return keyOf(event) != null;
    }
}
