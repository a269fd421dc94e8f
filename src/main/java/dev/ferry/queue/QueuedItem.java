package dev.ferry.queue;

import java.util.List;
import java.util.stream.Collectors;

import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Turn;

/**
 * One batch waiting in a followup queue. {@code queued} is true when it arrived while the session was
 * busy; a batch for an idle session only waits for a free turn slot and runs with its plain text.
 * {@code replayed} is a turn the journal already holds from before a restart: it runs again as it is.
 * {@code queuedAtMillis} is when it joined the queue, on the scheduler's clock, for the drain bound.
 */
record QueuedItem(List<InboundMessage> messages, boolean queued, Turn replayed, long queuedAtMillis) {

    QueuedItem {
        messages = List.copyOf(messages);
    }

    QueuedItem(List<InboundMessage> messages, boolean queued, long queuedAtMillis) {
        this(messages, queued, null, queuedAtMillis);
    }

    /** The batch's texts joined by newlines, in arrival order. */
    String text() {
        return messages.stream().map(InboundMessage::text).collect(Collectors.joining("\n"));
    }

    Destination destination() {
        return Destination.of(lastMessage());
    }

    InboundMessage lastMessage() {
        return messages.get(messages.size() - 1);
    }
}
