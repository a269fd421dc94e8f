package dev.ferry.journal;

import java.util.List;

/**
 * A reply in the outbox: everything a channel needs to send it, with no reference back to the turn's
 * state. {@code to} is the sender of the turn's last message; {@code inReplyTo} holds the message ids
 * of every message the turn answered, in order. {@code turnId} is 0 for what Ferry answers without
 * the agent: chat commands and notices.
 */
public record Reply(
        String replyId,
        long turnId,
        String sessionKey,
        String channel,
        String account,
        String conversation,
        String to,
        String threadId,
        String text,
        List<String> inReplyTo) {

    public Reply {
        inReplyTo = List.copyOf(inReplyTo);
    }

    /** The reply to {@code messages}: addressed like the last of them, answering every one of them. */
    public static Reply answering(String replyId, long turnId, String sessionKey, List<InboundMessage> messages,
                                  String text) {
        InboundMessage last = messages.get(messages.size() - 1);
        List<String> inReplyTo = messages.stream().map(InboundMessage::messageId).toList();
        return new Reply(replyId, turnId, sessionKey, last.channel(), last.account(), last.conversation(),
                last.sender(), last.threadId(), text, inReplyTo);
    }

    /** A notice from Ferry itself, addressed like a reply to {@code about} but answering no message. */
    public static Reply notice(String replyId, String sessionKey, InboundMessage about, String text) {
        return new Reply(replyId, 0, sessionKey, about.channel(), about.account(), about.conversation(),
                about.sender(), about.threadId(), text, List.of());
    }
}
