package dev.ferry.queue;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.events.GatewayEvent;
import dev.ferry.events.GatewayEvent.QueueChange;
import dev.ferry.events.GatewayEvent.TurnOutcome;
import dev.ferry.events.GatewayEvents;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Turn;

/**
 * What the followup queues and turns publish, built in one place. A publisher that throws is logged and
 * forgotten: an event must never fail or hold up the turn or the message it tells about. Never called
 * with the scheduler's lock held, so a subscriber's callback cannot wait on it. Thread-safe.
 */
final class QueueEvents {
    private static final Logger log = LoggerFactory.getLogger(QueueEvents.class);

    private final GatewayEvents events;

    QueueEvents(GatewayEvents events) {
        this.events = events;
    }

    /** Each message of a batch that waits behind a busy turn, with how many items its queue now holds. */
    void queued(String sessionKey, List<InboundMessage> messages, int queued) {
        messages.forEach(message -> queueChanged(sessionKey, message, QueueChange.QUEUED, null, queued));
    }

    /** Each message that went into the running turn. */
    void steered(String sessionKey, List<InboundMessage> messages, int queued) {
        messages.forEach(message -> queueChanged(sessionKey, message, QueueChange.STEERED, null, queued));
    }

    /** Each message dropped by the cap, {@code /stop} or an interrupt, with the reason the journal has. */
    void dropped(String sessionKey, List<InboundMessage> messages, String reason, int queued) {
        messages.forEach(message -> queueChanged(sessionKey, message, QueueChange.DROPPED, reason, queued));
    }

    /** The turn's inputs are committed and its backend is about to start. */
    void started(Turn turn) {
        InboundMessage last = turn.lastMessage();
        publish(new GatewayEvent.TurnStarted(turn.sessionKey(), turn.id(), last.channel(), last.conversation(),
                turn.messages().stream().map(InboundMessage::messageId).toList()));
    }

    void delta(Turn turn, String text) {
        InboundMessage last = turn.lastMessage();
        publish(new GatewayEvent.TextDelta(turn.sessionKey(), turn.id(), turn.replyId(), last.channel(), last.conversation(), text));
    }

    void restarted(Turn turn) {
        InboundMessage last = turn.lastMessage();
        publish(new GatewayEvent.TextRestarted(turn.sessionKey(), turn.id(), turn.replyId(), last.channel(),
                last.conversation()));
    }

    void ended(Turn turn, TurnOutcome outcome, String detail) {
        publish(new GatewayEvent.TurnEnded(turn.sessionKey(), turn.id(), outcome, detail));
    }

    private void queueChanged(String sessionKey, InboundMessage message, QueueChange change, String reason, int queued) {
        publish(new GatewayEvent.QueueChanged(sessionKey, message.channel(), message.conversation(),
                message.messageId(), change, reason, queued));
    }

    private void publish(GatewayEvent event) {
        try {
            events.publish(event);
        } catch (RuntimeException e) {
            log.warn("event not published event={}", event.getClass().getSimpleName(), e);
        }
    }
}
