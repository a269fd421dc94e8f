package dev.ferry.journal.sqlite;

import static dev.ferry.journal.sqlite.SqliteSchema.OPEN;
import static dev.ferry.journal.sqlite.SqliteSchema.PENDING;

import java.nio.file.Path;
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
import java.util.Optional;
import java.util.Map;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.config.QueueOverride;
import dev.ferry.journal.JournalRows;
import dev.ferry.journal.Exchange;
import dev.ferry.journal.FailedReply;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.JournalException;
import dev.ferry.journal.JournalStats;
import dev.ferry.journal.MessageState;
import dev.ferry.journal.Reply;
import dev.ferry.journal.ReplyIds;
import dev.ferry.journal.SessionInfo;
import dev.ferry.journal.Turn;

/**
 * The journal's reads, on a connection of their own, so a read never waits for the writer's batch; in WAL
 * mode it sees what is committed. Thread-safe: one read at a time holds {@code lock}.
 */
final class SqliteReads implements AutoCloseable {

    private final Path file;
    private final ReplyIds replyIds;
    private final Object lock = new Object();
    @GuardedBy("lock")
    private final Connection connection;
    /** The reads of every turn, prepared once: preparing the transcript's join cost as much as running it. */
    @GuardedBy("lock")
    private final Map<String, PreparedStatement> prepared = new HashMap<>();

    SqliteReads(Path file, Connection connection, ReplyIds replyIds) {
        this.file = file;
        this.connection = connection;
        this.replyIds = replyIds;
    }

    @FunctionalInterface
    private interface Read<T> {
        T run(Connection connection) throws SQLException;
    }

    private <T> T read(Read<T> body) {
        synchronized (lock) {
            try {
                return body.run(connection);
            } catch (SQLException e) {
                // The driver closes a statement whose step failed, so each is prepared afresh after a failure.
                prepared.values().forEach(SqliteTransactions::closeQuietly);
                prepared.clear();
                throw new JournalException("journal " + file + " read failed: " + e.getMessage(), e);
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
            try (PreparedStatement select = connection.prepareStatement("SELECT session_key, queue_directive FROM sessions")) {
                ResultSet rows = select.executeQuery();
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
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT * FROM messages WHERE state = " + PENDING + " ORDER BY seq")) {
                return JournalRows.messagesFrom(select.executeQuery());
            }
        });
    }

    List<Turn> openTurns() {
        return read(connection -> {
            Map<Long, List<InboundMessage>> byTurn = new LinkedHashMap<>();
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT * FROM messages WHERE state = " + PENDING + " AND turn_id IS NOT NULL ORDER BY seq")) {
                ResultSet rows = select.executeQuery();
                while (rows.next()) {
                    byTurn.computeIfAbsent(rows.getLong("turn_id"), id -> new ArrayList<>()).add(JournalRows.messageFrom(rows));
                }
            }
            List<Turn> turns = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT id, session_key, prompt FROM turns WHERE state = " + OPEN + " ORDER BY id")) {
                ResultSet rows = select.executeQuery();
                while (rows.next()) {
                    List<InboundMessage> messages = byTurn.get(rows.getLong(1));
                    if (messages != null) {
                        turns.add(new Turn(rows.getLong(1), replyIds.forTurn(rows.getLong(1)), rows.getString(2), messages,
                                rows.getString(3)));
                    }
                }
            }
            return turns;
        });
    }

    List<Reply> undeliveredReplies() {
        return read(connection -> {
            List<Reply> replies = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT * FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL ORDER BY created_at, rowid")) {
                ResultSet rows = select.executeQuery();
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
                    "SELECT * FROM outbox WHERE failed_at IS NOT NULL ORDER BY failed_at DESC, rowid DESC LIMIT ?")) {
                select.setInt(1, Math.max(limit, 0));
                ResultSet rows = select.executeQuery();
                while (rows.next()) {
                    failed.add(new FailedReply(JournalRows.replyFrom(rows), rows.getString("failure"), rows.getLong("failed_at")));
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
            // The reply's outbox row, by its key (a turn's reply id is the prefix and the turn id), says what it answers.
            PreparedStatement select = prepared(connection, """
                    SELECT t.turn_id, t.prompt, t.reply, t.completed_at, o.in_reply_to FROM transcript t
                    LEFT JOIN outbox o ON o.reply_id = ? || t.turn_id
                    WHERE t.session_key = ? ORDER BY t.id DESC LIMIT ?""");
            select.setString(1, replyIds.turnPrefix());
            select.setString(2, sessionKey);
            select.setInt(3, limit);
            // Closing the rows resets the kept statement, which ends its read of the snapshot.
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    exchanges.add(new Exchange(rows.getLong(1), replyIds.forTurn(rows.getLong(1)), rows.getString(2),
                            rows.getString(3), rows.getLong(4), JournalRows.idsFrom(rows.getString(5))));
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
            // Grouped on the index alone; only the page's newest rows are read for their time.
            try (PreparedStatement select = connection.prepareStatement("""
                    SELECT page.session_key, page.turns, t.completed_at FROM (
                      SELECT session_key, COUNT(*) AS turns, MAX(id) AS newest FROM transcript GROUP BY session_key
                      ORDER BY newest DESC LIMIT ? OFFSET ?) page
                    JOIN transcript t ON t.id = page.newest ORDER BY page.newest DESC""")) {
                select.setInt(1, limit);
                select.setInt(2, offset);
                ResultSet rows = select.executeQuery();
                while (rows.next()) {
                    sessions.add(new SessionInfo(rows.getString(1), rows.getLong(2), rows.getLong(3)));
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
                ResultSet rows = statement.executeQuery("SELECT state, COUNT(*) FROM messages GROUP BY state");
                while (rows.next()) {
                    byState.put(MessageState.of(rows.getInt(1)), rows.getLong(2));
                }
                ResultSet outbox = statement.executeQuery(
                        "SELECT COUNT(*) - COUNT(failed_at), COUNT(failed_at) FROM outbox WHERE delivered_at IS NULL");
                long outboxPending = outbox.next() ? outbox.getLong(1) : 0;
                long outboxFailed = outbox.getLong(2);
                ResultSet dup = statement.executeQuery("SELECT value FROM meta WHERE key = 'duplicates'");
                long duplicates = dup.next() ? Long.parseLong(dup.getString(1)) : 0;
                long received = byState.values().stream().mapToLong(Long::longValue).sum();
                return new JournalStats(received, duplicates, byState.getOrDefault(MessageState.DONE, 0L),
                        byState.getOrDefault(MessageState.DROPPED, 0L), byState.getOrDefault(MessageState.SUPERSEDED, 0L),
                        byState.getOrDefault(MessageState.PENDING, 0L), outboxPending, outboxFailed);
            }
        });
    }

    /** Called within {@link #read}, whose lock it takes again for the checker's sake. */
    private PreparedStatement prepared(Connection connection, String sql) throws SQLException {
        synchronized (lock) {
            PreparedStatement statement = prepared.get(sql);
            if (statement == null) {
                statement = connection.prepareStatement(sql);
                prepared.put(sql, statement);
            }
            return statement;
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            prepared.values().forEach(SqliteTransactions::closeQuietly);
            prepared.clear();
            SqliteTransactions.closeQuietly(connection);
        }
    }
}
