package dev.ferry.queue;

import java.util.List;
import java.util.stream.Collectors;

import dev.ferry.journal.InboundMessage;

/**
 * One batch waiting in a followup queue. {@code queued} is true when it arrived while the session was
 * busy; a batch for an idle session only waits for a free turn slot and runs with its plain text.
 */
record QueuedItem(List<InboundMessage> messages, boolean queued) {

    QueuedItem {
        messages = List.copyOf(messages);
    }

    /** The batch's texts joined by newlines, in arrival order. */
    String text() {
        return messages.stream().map(InboundMessage::text).collect(Collectors.joining("\n"));
    }

    Destination destination() {
        return Destination.of(messages.get(messages.size() - 1));
    }

    InboundMessage lastMessage() {
        return messages.get(messages.size() - 1);
    }
}
