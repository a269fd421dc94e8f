package dev.ferry.journal.postgres;

import static dev.ferry.journal.postgres.PostgresSchema.OPEN;
import static dev.ferry.journal.postgres.PostgresSchema.PENDING;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;

import dev.ferry.config.QueueOverride;
import dev.ferry.journal.AppendResult;
import dev.ferry.journal.ChannelCursor;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.JournalRows;
import dev.ferry.journal.LeaseLostException;
import dev.ferry.journal.MessageState;
import dev.ferry.journal.Reply;
import dev.ferry.journal.ReplyIds;
import dev.ferry.journal.Turn;
import dev.ferry.journal.TurnState;
import dev.ferry.time.WallClock;

/**
 * The statements of each journal write on PostgreSQL, run inside the writer's open transaction; a method
 * that fails throws and the writer rolls the whole write back. Where the SQLite journal trusts its single
 * writer, these let the database decide between gateways: the unique index decides a duplicate, the lease
 * row decides who runs a session ({@link SessionLeases}), and the outbox row carries the claim of the
 * gateway sending the reply. Not thread-safe: only the writer thread calls it.
 */
final class PostgresWrites {
    /** A wake-up for the other gateways: a message came for a session one of them holds. */
    static final String CHANNEL = "ferry_journal";

    private final PostgresTransactions tx;
    private final SessionLeases leases;
    private final Leadership leadership;
    private final ReplyIds replyIds;
    private final Function<InboundMessage, String> sessionKeys;
    private final WallClock clock;
    private final boolean notify;

    PostgresWrites(PostgresTransactions tx, SessionLeases leases, Leadership leadership, ReplyIds replyIds,
                   Function<InboundMessage, String> sessionKeys, WallClock clock, boolean notify) {
        this.tx = tx;
        this.leases = leases;
        this.leadership = leadership;
        this.replyIds = replyIds;
        this.sessionKeys = sessionKeys;
        this.clock = clock;
        this.notify = notify;
    }

    /**
     * Inserts the message unless its identity is stored already, then claims its session's lease: the
     * message is routed here when this gateway holds the session, and otherwise left for the holder.
     */
    AppendResult append(InboundMessage message) throws SQLException {
        String sessionKey = sessionKeys.apply(message);
        PreparedStatement insert = tx.cached("INSERT INTO messages(channel, account, conversation, sender,"
                + " message_id, text, thread_id, reply_to_id, media, received_at, session_key, appended_by)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (channel, account, conversation, message_id) DO NOTHING RETURNING seq");
        insert.setString(1, message.channel());
        insert.setString(2, message.account());
        insert.setString(3, message.conversation());
        insert.setString(4, message.sender());
        insert.setString(5, message.messageId());
        insert.setString(6, message.text());
        insert.setString(7, message.threadId());
        insert.setString(8, message.replyToId());
        insert.setString(9, message.media().isEmpty() ? null : JournalRows.json(message.media()));
        insert.setLong(10, message.receivedAtEpochMs());
        insert.setString(11, sessionKey);
        insert.setString(12, leases.instanceId);
        try (ResultSet inserted = insert.executeQuery()) {
            if (!inserted.next()) {
                return new AppendResult(earlierSeq(message), true);
            }
            long seq = inserted.getLong(1);
            if (leases.heldHere(tx, sessionKey).isPresent() || leases.claim(tx, sessionKey).isPresent()) {
                leases.routing(tx, seq, sessionKey);
            } else if (notify) {
                try (ResultSet notified = tx.cached("SELECT pg_notify('" + CHANNEL + "', '')").executeQuery()) {
                    notified.next();
                }
            }
            return new AppendResult(seq, false);
        }
    }

    /** The seq of the stored message with the identity of {@code message}, counting the duplicate. */
    private long earlierSeq(InboundMessage message) throws SQLException {
        PreparedStatement select = tx.cached("SELECT seq FROM messages"
                + " WHERE channel = ? AND account = ? AND conversation = ? AND message_id = ?");
        select.setString(1, message.channel());
        select.setString(2, message.account());
        select.setString(3, message.conversation());
        select.setString(4, message.messageId());
        try (ResultSet row = select.executeQuery()) {
            row.next();
            long seq = row.getLong(1);
            tx.update("INSERT INTO meta(key, value) VALUES ('duplicates', '1')"
                    + " ON CONFLICT (key) DO UPDATE SET value = (CAST(meta.value AS BIGINT) + 1)::text");
            return seq;
        }
    }

    /** Only the gateway polling the channel's account may move its cursor: see {@link Leadership#guard}. */
    List<AppendResult> appendAll(List<InboundMessage> messages, ChannelCursor cursor) throws SQLException {
        leadership.guard(tx, PostgresJournal.pollerRole(cursor.channel(), cursor.account()));
        List<AppendResult> results = new ArrayList<>(messages.size());
        for (InboundMessage message : messages) {
            results.add(append(message));
        }
        tx.update("INSERT INTO cursors(channel, account, position, updated_at) VALUES (?, ?, ?, ?)"
                + " ON CONFLICT (channel, account) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
                cursor.channel(), cursor.account(), cursor.position(), clock.epochMillis());
        return results;
    }

    Turn startTurn(String sessionKey, List<InboundMessage> messages, String prompt) throws SQLException {
        OptionalLong epoch = leases.claim(tx, sessionKey);
        if (epoch.isEmpty()) {
            throw new LeaseLostException("session " + sessionKey + " is held by another gateway, which runs its messages");
        }
        PreparedStatement insert = tx.cached("INSERT INTO turns(session_key, prompt, created_at, lease_epoch)"
                + " VALUES (?, ?, ?, ?) RETURNING id");
        insert.setString(1, sessionKey);
        insert.setString(2, prompt);
        insert.setLong(3, clock.epochMillis());
        insert.setLong(4, epoch.getAsLong());
        long turnId;
        try (ResultSet inserted = insert.executeQuery()) {
            inserted.next();
            turnId = inserted.getLong(1);
        }
        claimMessages(messages, turnId);
        leases.running(tx, turnId, sessionKey, epoch.getAsLong());
        return new Turn(turnId, replyIds.forTurn(turnId), sessionKey, messages, prompt);
    }

    /** Puts pending messages that are in no turn into the turn; any other message fails the whole write. */
    private void claimMessages(List<InboundMessage> messages, long turnId) throws SQLException {
        PreparedStatement update = tx.cached(
                "UPDATE messages SET turn_id = ? WHERE seq = ? AND state = " + PENDING + " AND turn_id IS NULL");
        for (InboundMessage message : messages) {
            update.setLong(1, turnId);
            update.setLong(2, message.seq());
            if (update.executeUpdate() != 1) {
                throw refusal(message.seq());
            }
        }
    }

    private IllegalStateException refusal(long seq) throws SQLException {
        PreparedStatement select = tx.cached("SELECT state, turn_id FROM messages WHERE seq = ?");
        select.setLong(1, seq);
        try (ResultSet row = select.executeQuery()) {
            if (!row.next() || row.getInt(1) != PENDING) {
                return new IllegalStateException("message seq=" + seq + " is not pending");
            }
            return new IllegalStateException("message seq=" + seq + " already belongs to turn " + row.getLong(2));
        }
    }

    Turn joinTurn(Turn turn, InboundMessage message) throws SQLException {
        leases.fence(tx, turn);
        claimMessages(List.of(message), turn.id());
        Turn joined = turn.including(message);
        tx.update("UPDATE turns SET prompt = ? WHERE id = ?", joined.prompt(), turn.id());
        return joined;
    }

    Reply completeTurn(Turn turn, String replyText) throws SQLException {
        leases.fence(tx, turn);
        long now = clock.epochMillis();
        settle(turn.messages(), MessageState.DONE, null, now);
        // Only the first completion adds the exchange: a turn completed twice keeps one transcript entry.
        if (tx.update("UPDATE turns SET state = ? WHERE id = ? AND state = " + OPEN, TurnState.COMPLETED.code(), turn.id()) == 1) {
            tx.update("INSERT INTO transcript(session_key, turn_id, prompt, reply, completed_at) VALUES (?, ?, ?, ?, ?)",
                    turn.sessionKey(), turn.id(), turn.prompt(), replyText, now);
        }
        leases.ended(tx, turn.id());
        Reply reply = Reply.answering(turn.replyId(), turn.id(), turn.sessionKey(), turn.messages(), replyText);
        putInOutbox(reply, now);
        return reply;
    }

    Reply failTurn(Turn turn, String replyText, String reason) throws SQLException {
        leases.fence(tx, turn);
        long now = clock.epochMillis();
        settle(turn.messages(), MessageState.DONE, reason, now);
        tx.update("UPDATE turns SET state = ? WHERE id = ? AND state = " + OPEN, TurnState.FAILED.code(), turn.id());
        leases.ended(tx, turn.id());
        Reply reply = Reply.answering(turn.replyId(), turn.id(), turn.sessionKey(), turn.messages(), replyText);
        putInOutbox(reply, now);
        return reply;
    }

    Void supersedeTurn(Turn turn, String reason) throws SQLException {
        leases.fence(tx, turn);
        settle(turn.messages(), MessageState.SUPERSEDED, reason, clock.epochMillis());
        tx.update("UPDATE turns SET state = ? WHERE id = ?", TurnState.SUPERSEDED.code(), turn.id());
        leases.ended(tx, turn.id());
        return null;
    }

    Void dropMessages(List<InboundMessage> messages, String reason) throws SQLException {
        settle(messages, MessageState.DROPPED, reason, clock.epochMillis());
        return null;
    }

    Reply completeWithoutTurn(String sessionKey, InboundMessage message, String replyText) throws SQLException {
        long now = clock.epochMillis();
        settle(List.of(message), MessageState.DONE, null, now);
        Reply reply = Reply.answering(replyIds.forCommand(message.seq()), 0, sessionKey, List.of(message), replyText);
        putInOutbox(reply, now);
        return reply;
    }

    Reply recordNotice(String sessionKey, InboundMessage about, String text) throws SQLException {
        Reply notice = Reply.notice(replyIds.forNotice(), sessionKey, about, text);
        putInOutbox(notice, clock.epochMillis());
        return notice;
    }

    Void resetSession(String sessionKey) throws SQLException {
        tx.update("DELETE FROM transcript WHERE session_key = ?", sessionKey);
        return null;
    }

    Void saveQueueDirective(String sessionKey, QueueOverride directive) throws SQLException {
        if (directive == null || directive.isEmpty()) {
            tx.update("DELETE FROM sessions WHERE session_key = ?", sessionKey);
        } else {
            tx.update("INSERT INTO sessions(session_key, queue_directive, updated_at) VALUES (?, ?, ?)"
                    + " ON CONFLICT (session_key) DO UPDATE SET queue_directive = excluded.queue_directive,"
                    + " updated_at = excluded.updated_at",
                    sessionKey, JournalRows.directiveText(directive), clock.epochMillis());
        }
        return null;
    }

    Void markDelivered(String replyId) throws SQLException {
        tx.update("UPDATE outbox SET delivered_at = ? WHERE reply_id = ?", clock.epochMillis(), replyId);
        return null;
    }

    Void markFailed(String replyId, String reason) throws SQLException {
        tx.update("UPDATE outbox SET failed_at = ?, failure = ? WHERE reply_id = ? AND delivered_at IS NULL",
                clock.epochMillis(), reason, replyId);
        return null;
    }

    /** The requeued reply is this gateway's to send, under a fresh claim. */
    Optional<Reply> requeueFailed(String replyId) throws SQLException {
        PreparedStatement requeue = tx.cached("UPDATE outbox SET failed_at = NULL, failure = NULL, claimed_by = ?,"
                + " claim_expires = now() + ? * interval '1 millisecond'"
                + " WHERE reply_id = ? AND failed_at IS NOT NULL RETURNING *");
        requeue.setString(1, leases.instanceId);
        requeue.setLong(2, leases.ttlMs);
        requeue.setString(3, replyId);
        try (ResultSet row = requeue.executeQuery()) {
            return row.next() ? Optional.of(JournalRows.replyFrom(row)) : Optional.empty();
        }
    }

    int prune(long olderThanEpochMs, int keepExchanges) throws SQLException {
        return tx.update("DELETE FROM messages WHERE state <> " + PENDING + " AND settled_at < ?", olderThanEpochMs)
                + tx.update("DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?", olderThanEpochMs)
                + tx.update("DELETE FROM outbox WHERE failed_at < ?", olderThanEpochMs)
                + tx.update("DELETE FROM turns WHERE state <> " + OPEN + " AND created_at < ?", olderThanEpochMs)
                + tx.update(PRUNE_TRANSCRIPT, keepExchanges, olderThanEpochMs)
                + tx.update("DELETE FROM sessions WHERE updated_at < ? AND session_key NOT IN (SELECT session_key FROM transcript)"
                        + " AND session_key NOT IN (SELECT session_key FROM turns WHERE state = " + OPEN + ")", olderThanEpochMs)
                // A lease long expired with nothing pending in its session is of no use to anyone.
                + tx.update("DELETE FROM session_leases l WHERE expires_at < now() - interval '1 hour' AND NOT EXISTS"
                        + " (SELECT 1 FROM messages m WHERE m.session_key = l.session_key AND m.state = " + PENDING + ")");
    }

    /** Each session's exchanges older than the cutoff (?2), except its newest ?1. */
    private static final String PRUNE_TRANSCRIPT = """
            DELETE FROM transcript WHERE id IN (
              SELECT t.id FROM (
                SELECT s.session_key, (SELECT n.id FROM transcript n WHERE n.session_key = s.session_key
                                       ORDER BY n.id DESC LIMIT 1 OFFSET ?) AS newest_pruned
                FROM (SELECT DISTINCT session_key FROM transcript) s) b
              JOIN transcript t ON t.session_key = b.session_key AND t.id <= b.newest_pruned
              WHERE t.completed_at < ?)""";

    /** Settles what is still pending; a message settled already keeps its first outcome and reason. */
    private void settle(List<InboundMessage> messages, MessageState state, String reason, long now) throws SQLException {
        PreparedStatement update = tx.cached(
                "UPDATE messages SET state = ?, reason = ?, settled_at = ? WHERE seq = ? AND state = " + PENDING);
        for (InboundMessage message : messages) {
            update.setInt(1, state.code());
            update.setString(2, reason);
            update.setLong(3, now);
            update.setLong(4, message.seq());
            update.executeUpdate();
            leases.settled(tx, message.seq());
        }
    }

    /** The reply is claimed by this gateway, which sends it; a peer sends it only once the claim runs out unrenewed. */
    private void putInOutbox(Reply reply, long now) throws SQLException {
        PreparedStatement insert = tx.cached("INSERT INTO outbox(reply_id, turn_id, session_key, channel, account,"
                + " conversation, recipient, thread_id, text, in_reply_to, created_at, claimed_by, claim_expires)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now() + ? * interval '1 millisecond')"
                + " ON CONFLICT (reply_id) DO NOTHING");
        insert.setString(1, reply.replyId());
        insert.setLong(2, reply.turnId());
        insert.setString(3, reply.sessionKey());
        insert.setString(4, reply.channel());
        insert.setString(5, reply.account());
        insert.setString(6, reply.conversation());
        insert.setString(7, reply.to());
        insert.setString(8, reply.threadId());
        insert.setString(9, reply.text());
        insert.setString(10, JournalRows.json(reply.inReplyTo()));
        insert.setLong(11, now);
        insert.setString(12, leases.instanceId);
        insert.setLong(13, leases.ttlMs);
        insert.executeUpdate();
    }
}
