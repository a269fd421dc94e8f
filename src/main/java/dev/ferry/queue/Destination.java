package dev.ferry.queue;

import dev.ferry.journal.InboundMessage;

/** Where a reply would go. Queued messages for different destinations are never merged into one prompt. */
record Destination(String channel, String account, String conversation, String threadId) {

    static Destination of(InboundMessage message) {
        return new Destination(message.channel(), message.account(), message.conversation(), message.threadId());
    }
}
