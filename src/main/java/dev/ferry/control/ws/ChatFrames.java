package dev.ferry.control.ws;

import java.util.Locale;
import java.util.Optional;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.control.Json;
import dev.ferry.events.GatewayEvent;

/**
 * The {@code chat} and {@code queue} events of SPEC 3.5, made from the gateway's events. A reply streams
 * as {@code final:false} pieces, to be appended, and ends with one {@code final:true} event that carries
 * the whole text under the same {@code replyId}, so a client that lost pieces still shows the reply
 * whole. A message held behind a busy turn is {@code queued} until a {@code started} event lists it.
 * Stateless.
 */
final class ChatFrames {

    private ChatFrames() {}

    /** Whether the frame of {@code event} is one a client that falls behind may lose: a streamed piece. */
    static boolean mayBeLost(GatewayEvent event) {
        return event instanceof GatewayEvent.TextDelta;
    }

    static Optional<String> of(GatewayEvent event) {
        if (event instanceof GatewayEvent.TextDelta delta) {
            return Optional.of(WsFrames.event("chat", chat(delta.channel(), delta.conversation(), delta.replyId(),
                    delta.turnId(), delta.text(), false)));
        }
        if (event instanceof GatewayEvent.TextRestarted restarted) {
            // Pieces shown for this reply are void; the ones that follow start it again.
            return Optional.of(WsFrames.event("chat", chat(restarted.channel(), restarted.conversation(),
                    restarted.replyId(), restarted.turnId(), "", false).put("restart", true)));
        }
        if (event instanceof GatewayEvent.ReplyCommitted reply) {
            ObjectNode payload = chat(reply.channel(), reply.conversation(), reply.replyId(), reply.turnId(),
                    reply.text(), true);
            reply.inReplyTo().forEach(payload.putArray("inReplyTo")::add);
            return Optional.of(WsFrames.event("chat", payload));
        }
        if (event instanceof GatewayEvent.QueueChanged queue) {
            ObjectNode payload = payload(queue.channel(), queue.conversation())
                    .put("messageId", queue.messageId())
                    .put("change", queue.change().name().toLowerCase(Locale.ROOT))
                    .put("queued", queue.queued());
            if (queue.reason() != null) {
                payload.put("reason", queue.reason());
            }
            return Optional.of(WsFrames.event("queue", payload));
        }
        if (event instanceof GatewayEvent.TurnStarted started) {
            ObjectNode payload = payload(started.channel(), started.conversation())
                    .put("change", "started")
                    .put("turnId", started.turnId());
            started.messageIds().forEach(payload.putArray("messageIds")::add);
            return Optional.of(WsFrames.event("queue", payload));
        }
        return Optional.empty();
    }

    private static ObjectNode chat(String channel, String conversation, String replyId, long turnId, String text,
                                   boolean isFinal) {
        return payload(channel, conversation)
                .put("replyId", replyId)
                .put("turnId", turnId)
                .put("text", text)
                .put("final", isFinal);
    }

    private static ObjectNode payload(String channel, String conversation) {
        return Json.object().put("conversation", conversation).put("channel", channel);
    }
}
