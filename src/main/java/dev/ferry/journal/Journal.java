package dev.ferry.journal;

import java.util.List;
import java.util.concurrent.CompletableFuture;

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

    /** Fixes a turn's inputs before the agent runs; the messages must be pending and in no other turn. */
    CompletableFuture<Turn> startTurn(String sessionKey, List<InboundMessage> messages, String prompt);

    /**
     * In one commit: marks the turn's messages done, appends the exchange to the session transcript and
     * puts the reply in the outbox.
     */
    CompletableFuture<Reply> completeTurn(Turn turn, String replyText);

    /** Records that the platform accepted the reply; it leaves the outbox. */
    CompletableFuture<Void> markDelivered(String replyId);

    /** Messages not yet done, in journal order: what a new start must run again. */
    List<InboundMessage> pendingMessages();

    /** Replies not yet delivered, oldest first. */
    List<Reply> undeliveredReplies();

    /** The newest {@code limit} exchanges of a session, oldest first. */
    List<Exchange> transcript(String sessionKey, int limit);

    /** Every session with at least one completed turn, most recently active first. */
    List<SessionInfo> sessions();

    JournalStats stats();

    @Override
    void close();
}
