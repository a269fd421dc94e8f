package dev.ferry.journal;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import dev.ferry.config.QueueOverride;

/**
 * The durable record behind Ferry's promise. Writes complete their future only once committed, so a
 * caller that acknowledges on completion never acknowledges what a crash could lose. Thread-safe.
 */
public interface Journal extends AutoCloseable {

    /**
     * Appends an accepted message unless one with the same channel, account, conversation and message
     * id is already journaled, in which case the result says so and nothing is written.
     */
    CompletableFuture<AppendResult> append(InboundMessage message);

    /**
     * Appends each message as {@link #append} would, and stores {@code cursor} as its channel's position, all
     * in one commit: a polling channel confirms its platform's position only once this completes, and a
     * restart reads the position back with {@link #cursor}. The results are in the order of {@code messages}.
     */
    CompletableFuture<List<AppendResult>> appendAll(List<InboundMessage> messages, ChannelCursor cursor);

    /** The position stored last for the channel's account, or empty when it never stored one. */
    Optional<String> cursor(String channel, String account);

    /** Fixes a turn's inputs before the agent runs; the messages must be pending and in no other turn. */
    CompletableFuture<Turn> startTurn(String sessionKey, List<InboundMessage> messages, String prompt);

    /**
     * In one commit: marks the turn's messages done, appends the exchange to the session transcript and
     * puts the reply in the outbox.
     */
    CompletableFuture<Reply> completeTurn(Turn turn, String replyText);

    /**
     * In one commit: marks the turn's messages done with {@code reason} (answered, with an error), ends the
     * turn as failed, and puts {@code replyText}, a short error reply, in the outbox under the turn's reply
     * id. The transcript is not touched, so the agent never sees a failure as something it said. A turn
     * completed or failed before keeps its first reply.
     */
    CompletableFuture<Reply> failTurn(Turn turn, String replyText, String reason);

    /**
     * Adds a message to a turn that is still running (steering): it is answered by that turn's reply.
     * Returns the turn with the message appended.
     */
    CompletableFuture<Turn> joinTurn(Turn turn, InboundMessage message);

    /** Ends a turn without a reply because something newer replaced it; its messages become superseded. */
    CompletableFuture<Void> supersedeTurn(Turn turn, String reason);

    /** Records messages a queue policy dropped, with the reason; they are accounted for, not pending. */
    CompletableFuture<Void> dropMessages(List<InboundMessage> messages, String reason);

    /**
     * Answers a message without the agent (a chat command): in one commit the message is done and the
     * reply is in the outbox. The transcript is not touched.
     */
    CompletableFuture<Reply> completeWithoutTurn(String sessionKey, InboundMessage message, String replyText);

    /** Puts a notice from Ferry itself (e.g. about dropped messages) in the outbox, addressed like a reply to {@code about}. */
    CompletableFuture<Reply> recordNotice(String sessionKey, InboundMessage about, String text);

    /** Starts a fresh transcript for the session. */
    CompletableFuture<Void> resetSession(String sessionKey);

    /** Stores a session's {@code /queue} settings; null clears them. */
    CompletableFuture<Void> saveQueueDirective(String sessionKey, QueueOverride directive);

    /** Every session's stored {@code /queue} settings, by session key: read once, when a scheduler starts. */
    Map<String, QueueOverride> queueDirectives();

    /** Records that the platform accepted the reply; it leaves the outbox. */
    CompletableFuture<Void> markDelivered(String replyId);

    /** Records that the platform refused the reply for good, and why; it stays out of every later send and replay. */
    CompletableFuture<Void> markFailed(String replyId, String reason);

    /** Makes a failed reply undelivered again and returns it; empty when no failed reply has that id. */
    CompletableFuture<Optional<Reply>> requeueFailed(String replyId);

    /** Messages not yet done, in journal order: what a new start must run again. */
    List<InboundMessage> pendingMessages();

    /** Turns started and neither completed nor superseded, oldest first: a new start runs them again as they are. */
    List<Turn> openTurns();

    /**
     * Deletes what is older than the cutoff and no longer needed; returns rows removed. That is settled
     * messages, finished turns, delivered and failed replies; each session's exchanges except its newest
     * {@code keepExchanges}; and the stored {@code /queue} settings of a session saved before the cutoff
     * once it has no exchange left and no turn open.
     */
    CompletableFuture<Integer> prune(long olderThanEpochMs, int keepExchanges);

    /** Replies neither delivered nor failed, oldest first. */
    List<Reply> undeliveredReplies();

    /** The newest {@code limit} failed replies, newest first. */
    List<FailedReply> failedReplies(int limit);

    /** The newest {@code limit} exchanges of a session, oldest first. */
    List<Exchange> transcript(String sessionKey, int limit);

    /** Up to {@code limit} sessions with at least one exchange, most recently active first, skipping the first {@code offset}. */
    List<SessionInfo> sessions(int offset, int limit);

    /** How many sessions have at least one exchange. */
    long sessionCount();

    JournalStats stats();

    /**
     * Hands this gateway, through {@code takeover}, the unfinished work it is to run. A journal of one
     * gateway hands over all of it once, before this returns: the replay of a start. A journal that several
     * gateways share hands each only what it takes over (unowned work, or work whose owner stopped renewing
     * its lease), now and whenever more comes its way, until it closes; no gateway replays everything.
     */
    default void resume(Takeover takeover) {
        List<Turn> open = openTurns();
        Set<Long> inOpenTurns = new HashSet<>();
        open.forEach(turn -> turn.messages().forEach(message -> inOpenTurns.add(message.seq())));
        List<InboundMessage> pending = pendingMessages().stream()
                .filter(message -> !inOpenTurns.contains(message.seq())).toList();
        takeover.take(undeliveredReplies(), open, pending);
    }

    /**
     * Whether this gateway runs the session of {@code journaled}, a message it just appended. False only on
     * a shared journal whose session another gateway holds: that gateway is handed the message instead.
     */
    default boolean runsHere(InboundMessage journaled) {
        return true;
    }

    /**
     * Whether this gateway is the one that polls the channel's account (a Telegram bot) and moves its
     * cursor. Always true for a journal of one gateway. On a shared journal one gateway at a time is; the
     * first call asks for the role, which this gateway takes once no other holds it, and {@link #appendAll}
     * from any other is refused, so a brief overlap of two pollers stores nothing twice.
     */
    default boolean polls(String channel, String account) {
        return true;
    }

    /** This gateway among those sharing the journal; empty for a journal of one gateway. */
    default Optional<ClusterView> cluster() {
        return Optional.empty();
    }

    /**
     * Whether writes can commit now. When they cannot, every write fails with a
     * {@link JournalUnavailableException} carrying the same problem, and nothing is acknowledged.
     */
    JournalHealth health();

    @Override
    void close();
}
