package dev.ferry.journal;

import java.util.List;

/**
 * One run of the agent, with its inputs fixed before the agent starts. The reply id derives from the
 * turn, so running the same turn again yields the same reply id.
 */
public record Turn(long id, String replyId, String sessionKey, List<InboundMessage> messages, String prompt) {

    public Turn {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("a turn needs at least one message");
        }
        messages = List.copyOf(messages);
    }

    /**
     * This turn with a steered message added after its last one; its text joins the prompt, so a retry
     * and the transcript see what the running agent saw.
     */
    public Turn including(InboundMessage message) {
        var all = new java.util.ArrayList<>(messages);
        all.add(message);
        return new Turn(id, replyId, sessionKey, all, prompt + "\n" + message.text());
    }

    /** The message whose conversation, sender and thread the reply goes back to. */
    public InboundMessage lastMessage() {
        return messages.get(messages.size() - 1);
    }
}
