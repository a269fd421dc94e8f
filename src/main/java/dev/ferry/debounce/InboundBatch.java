package dev.ferry.debounce;

import java.util.List;

import dev.ferry.journal.InboundMessage;

/**
 * Messages of one debounce key that become one prompt, in arrival order. Every message id is kept;
 * the last message supplies the reply metadata (thread, reply-to).
 */
public record InboundBatch(String debounceKey, List<InboundMessage> messages, FlushReason reason) {

    public InboundBatch {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("a batch holds at least one message");
        }
        messages = List.copyOf(messages);
    }

    public InboundMessage lastMessage() {
        return messages.get(messages.size() - 1);
    }
}
