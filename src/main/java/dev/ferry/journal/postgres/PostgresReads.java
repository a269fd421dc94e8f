package dev.ferry.journal.postgres;

import static dev.ferry.journal.postgres.PostgresSchema.OPEN;
import static dev.ferry.journal.postgres.PostgresSchema.PENDING;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.config.QueueOverride;
import dev.ferry.journal.Exchange;
import dev.ferry.journal.FailedReply;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.JournalException;
import dev.ferry.journal.JournalRows;
import dev.ferry.journal.JournalStats;
import dev.ferry.journal.MessageState;
import dev.ferry.journal.Reply;
import dev.ferry.journal.ReplyIds;
import dev.ferry.journal.SessionInfo;
import dev.ferry.journal.Turn;

/**
 * The journal's reads on PostgreSQL, on a connection of their own in auto-commit, so a read never waits
 * for the writer's batch and sees what every gateway has committed. A broken connection is replaced by
 * the next read. Thread-safe: one read at a time holds {@code lock}.
 */
final class PostgresReads implements AutoCloseable {

    private final Connector connector;
    private final ReplyIds replyIds;
    private final Object lock = new Object();
    @GuardedBy("lock")
    private Connection connection;

    PostgresReads(Connector connector, Connection connection, ReplyIds replyIds) {
        this.connector = connector;
        this.connection = connection;
        this.replyIds = replyIds;
    }

    @FunctionalInterface
    interface Read<T> {
        T run(Connection connection) throws SQLException;
    }

    <T> T read(Read<T> body) {
        synchronized (lock) {
            try {
                if (connection == null || connection.isClosed()) {
                    connection = connector.open();
                }
                return body.run(connection);
            } catch (SQLException e) {
                PostgresTransactions.closeQuietly(connection);
                connection = null;
                throw new JournalException("journal " + connector + " read failed: " + e.getMessage(), e);
            }
        }
    }

    Optional<String> cursor(String channel, String account) {
        return read(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT position FROM cursors WHERE channel = ? AND account = ?")) {
                select.setString(1, channel);
                select.setString(2, account);
                try (ResultSet row = select.executeQuery()) {
                    return row.next() ? Optional.of(row.getString(1)) : Optional.empty();
                }
            }
        });
    }

    Map<String, QueueOverride> queueDirectives() {
        return read(connection -> {
            try (Statement select = connection.createStatement();
                 ResultSet rows = select.executeQuery("SELECT session_key, queue_directive FROM sessions")) {
                Map<String, QueueOverride> directives = new HashMap<>();
                while (rows.next()) {
                    directives.put(rows.getString(1), JournalRows.directiveFrom(rows.getString(2)));
                }
                return directives;
            }
        });
    }

    List<InboundMessage> pendingMessages() {
        return read(connection -> {
            try (Statement select = connection.createStatement()) {
                return JournalRows.messagesFrom(select.executeQuery(
                        "SELECT * FROM messages WHERE state = " + PENDING + " ORDER BY seq"));
            }
        });
    }

    List<Turn> openTurns() {
        return read(connection -> openTurns(connection, null));
    }

    /** The open turns with a pending message, oldest first; of {@code sessionKeys} only, unless null. */
    List<Turn> openTurns(Connection connection, String[] sessionKeys) throws SQLException {
        String only = sessionKeys == null ? "" : " AND session_key = ANY(?)";
        Map<Long, List<InboundMessage>> byTurn = new LinkedHashMap<>();
        try (PreparedStatement select = connection.prepareStatement("SELECT * FROM messages WHERE state = " + PENDING
                + " AND turn_id IS NOT NULL" + only + " ORDER BY seq")) {
            if (sessionKeys != null) {
                select.setArray(1, connection.createArrayOf("text", sessionKeys));
            }
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    byTurn.computeIfAbsent(rows.getLong("turn_id"), id -> new ArrayList<>()).add(JournalRows.messageFrom(rows));
                }
            }
        }
        List<Turn> turns = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT id, session_key, prompt FROM turns WHERE state = " + OPEN + only + " ORDER BY id")) {
            if (sessionKeys != null) {
                select.setArray(1, connection.createArrayOf("text", sessionKeys));
            }
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    List<InboundMessage> messages = byTurn.get(rows.getLong(1));
                    if (messages != null) {
                        turns.add(new Turn(rows.getLong(1), replyIds.forTurn(rows.getLong(1)), rows.getString(2), messages,
                                rows.getString(3)));
                    }
                }
            }
        }
        return turns;
    }

    List<Reply> undeliveredReplies() {
        return read(connection -> {
            List<Reply> replies = new ArrayList<>();
            try (Statement select = connection.createStatement();
                 ResultSet rows = select.executeQuery("SELECT * FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL"
                         + " ORDER BY created_at, seq")) {
                while (rows.next()) {
                    replies.add(JournalRows.replyFrom(rows));
                }
            }
            return replies;
        });
    }

    List<FailedReply> failedReplies(int limit) {
        return read(connection -> {
            List<FailedReply> failed = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT * FROM outbox WHERE failed_at IS NOT NULL ORDER BY failed_at DESC, seq DESC LIMIT ?")) {
                select.setInt(1, Math.max(limit, 0));
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        failed.add(new FailedReply(JournalRows.replyFrom(rows), rows.getString("failure"), rows.getLong("failed_at")));
                    }
                }
            }
            return failed;
        });
    }

    List<Exchange> transcript(String sessionKey, int limit) {
        if (limit <= 0) {
            return List.of();
        }
        return read(connection -> {
            List<Exchange> exchanges = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement("""
                    SELECT t.turn_id, t.prompt, t.reply, t.completed_at, o.in_reply_to FROM transcript t
                    LEFT JOIN outbox o ON o.reply_id = CAST(? AS TEXT) || t.turn_id
                    WHERE t.session_key = ? ORDER BY t.id DESC LIMIT ?""")) {
                select.setString(1, replyIds.turnPrefix());
                select.setString(2, sessionKey);
                select.setInt(3, limit);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        exchanges.add(new Exchange(rows.getLong(1), replyIds.forTurn(rows.getLong(1)), rows.getString(2),
                                rows.getString(3), rows.getLong(4), JournalRows.idsFrom(rows.getString(5))));
                    }
                }
            }
            Collections.reverse(exchanges);
            return exchanges;
        });
    }

    List<SessionInfo> sessions(int offset, int limit) {
        if (limit <= 0) {
            return List.of();
        }
        return read(connection -> {
            List<SessionInfo> sessions = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement("""
                    SELECT page.session_key, page.turns, t.completed_at FROM (
                      SELECT session_key, COUNT(*) AS turns, MAX(id) AS newest FROM transcript GROUP BY session_key
                      ORDER BY newest DESC LIMIT ? OFFSET ?) page
                    JOIN transcript t ON t.id = page.newest ORDER BY page.newest DESC""")) {
                select.setInt(1, limit);
                select.setInt(2, offset);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        sessions.add(new SessionInfo(rows.getString(1), rows.getLong(2), rows.getLong(3)));
                    }
                }
            }
            return sessions;
        });
    }

    long sessionCount() {
        return read(connection -> {
            try (Statement statement = connection.createStatement();
                 ResultSet count = statement.executeQuery("SELECT COUNT(DISTINCT session_key) FROM transcript")) {
                return count.next() ? count.getLong(1) : 0;
            }
        });
    }

    JournalStats stats() {
        return read(connection -> {
            Map<MessageState, Long> byState = new HashMap<>();
            try (Statement statement = connection.createStatement()) {
                try (ResultSet rows = statement.executeQuery("SELECT state, COUNT(*) FROM messages GROUP BY state")) {
                    while (rows.next()) {
                        byState.put(MessageState.of(rows.getInt(1)), rows.getLong(2));
                    }
                }
                long outboxPending;
                long outboxFailed;
                try (ResultSet outbox = statement.executeQuery(
                        "SELECT COUNT(*) - COUNT(failed_at), COUNT(failed_at) FROM outbox WHERE delivered_at IS NULL")) {
                    outbox.next();
                    outboxPending = outbox.getLong(1);
                    outboxFailed = outbox.getLong(2);
                }
                long duplicates;
                try (ResultSet dup = statement.executeQuery("SELECT value FROM meta WHERE key = 'duplicates'")) {
                    duplicates = dup.next() ? Long.parseLong(dup.getString(1)) : 0;
                }
                long received = byState.values().stream().mapToLong(Long::longValue).sum();
                return new JournalStats(received, duplicates, byState.getOrDefault(MessageState.DONE, 0L),
                        byState.getOrDefault(MessageState.DROPPED, 0L), byState.getOrDefault(MessageState.SUPERSEDED, 0L),
                        byState.getOrDefault(MessageState.PENDING, 0L), outboxPending, outboxFailed);
            }
        });
    }

    @Override
    public void close() {
        synchronized (lock) {
            PostgresTransactions.closeQuietly(connection);
            connection = null;
        }
    }
}
