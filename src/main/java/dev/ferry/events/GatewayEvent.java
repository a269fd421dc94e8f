package dev.ferry.events;

import java.util.List;

/**
 * What the gateway is doing, as it happens: one message's path from queue to delivery, and the gateway's
 * own changes. Events are not durable; the journal stays the truth, and a client that missed events
 * catches up from history. Every value here is plain data, so any stage may publish and any client read.
 */
public sealed interface GatewayEvent {

    /** The session an event belongs to, or null for an event of the whole gateway. */
    String sessionKey();

    /** A turn began: the agent now works on these messages of {@code conversation}. */
    record TurnStarted(String sessionKey, long turnId, String channel, String conversation,
                       List<String> messageIds) implements GatewayEvent {
        public TurnStarted {
            messageIds = List.copyOf(messageIds);
        }
    }

    /**
     * A piece of a turn's reply text as the backend produces it; not the reply, which comes committed under
     * the same {@code replyId}.
     */
    record TextDelta(String sessionKey, long turnId, String replyId, String channel, String conversation, String text)
            implements GatewayEvent {}

    /**
     * The text deltas of a turn so far are void: its reply starts over (a steered message restarted the
     * model call, or a failed attempt is run again).
     */
    record TextRestarted(String sessionKey, long turnId, String replyId, String channel, String conversation)
            implements GatewayEvent {}

    /** A turn ended; {@code detail} says why when it did not reply (the supersede reason, the error). */
    record TurnEnded(String sessionKey, long turnId, TurnOutcome outcome, String detail) implements GatewayEvent {}

    /** A reply is in the journal's outbox: it will be delivered, now or after a restart. */
    record ReplyCommitted(String sessionKey, long turnId, String replyId, String channel, String conversation,
                          String text, List<String> inReplyTo) implements GatewayEvent {
        public ReplyCommitted {
            inReplyTo = List.copyOf(inReplyTo);
        }
    }

    /** The channel's platform accepted a reply. */
    record ReplyDelivered(String sessionKey, String replyId, String channel, String conversation)
            implements GatewayEvent {}

    /** The platform refused a reply for good; it is kept as failed. */
    record ReplyFailed(String sessionKey, String replyId, String channel, String conversation, String reason)
            implements GatewayEvent {}

    /**
     * A message found its session busy and waits in the followup queue ({@link QueueChange#QUEUED}), went
     * into the running turn ({@link QueueChange#STEERED}), or was dropped with {@code reason}.
     */
    record QueueChanged(String sessionKey, String channel, String conversation, String messageId,
                        QueueChange change, String reason, int queued) implements GatewayEvent {}

    /** A reload applied; {@code generation} is the new one. */
    record ReloadApplied(long generation) implements GatewayEvent {
        @Override
        public String sessionKey() {
            return null;
        }
    }

    /** The gateway is stopping; nothing more will be accepted. */
    record ShuttingDown(long generation) implements GatewayEvent {
        @Override
        public String sessionKey() {
            return null;
        }
    }

    /**
     * Only in a subscription: that subscriber fell behind and {@code lostDeltas} text deltas were dropped
     * from its buffer before this point. Replies and every other event were kept.
     */
    record EventsLost(long lostDeltas) implements GatewayEvent {
        @Override
        public String sessionKey() {
            return null;
        }
    }

    /** How a turn ended. */
    enum TurnOutcome {
        /** Its reply is committed. */
        REPLIED,
        /** Replaced by something newer (interrupt, {@code /stop}); its messages are superseded. */
        SUPERSEDED,
        /** Aborted for a reload or stop; it runs again, as the same turn. */
        PARKED,
        /** The backend failed; the turn is retried or, after the last retry, answered with an error. */
        FAILED
    }

    /** What happened to a message that found its session busy. */
    enum QueueChange { QUEUED, STEERED, DROPPED }
}
