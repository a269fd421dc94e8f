package dev.ferry.journal.sqlite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.config.JournalSync;
import dev.ferry.config.QueueOverride;
import dev.ferry.journal.AppendResult;
import dev.ferry.journal.ChannelCursor;
import dev.ferry.journal.Exchange;
import dev.ferry.journal.FailedReply;
import dev.ferry.journal.GroupCommitWriter;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalException;
import dev.ferry.journal.JournalHealth;
import dev.ferry.journal.JournalStats;
import dev.ferry.journal.Reply;
import dev.ferry.journal.ReplyIds;
import dev.ferry.journal.SessionInfo;
import dev.ferry.journal.Turn;
import dev.ferry.time.WallClock;

/**
 * The durable journal: one SQLite file in WAL mode. Writes go through a {@link GroupCommitWriter}, which
 * commits whatever is queued in one transaction and completes each write's future only after its commit,
 * in commit order; {@link SqliteWrites} holds their statements. Reads use a connection of their own
 * ({@link SqliteReads}). Thread-safe.
 *
 * <p>The writer's invariant: between batches its connection holds one open transaction with nothing in
 * it, and the dedupe index holds exactly the keys of committed rows. While the disk is full every write
 * fails with {@link dev.ferry.journal.JournalUnavailableException} and {@link #health()} says so, until
 * one commits again. The writer also checks that the path still leads to the file it opened, after each
 * batch and every second when idle; once the file was removed or replaced, nothing is acknowledged any more.
 */
public final class SqliteJournal implements Journal {
    private static final Logger log = LoggerFactory.getLogger(SqliteJournal.class);

    private final Path file;
    private final Connection writerConnection;
    private final SqliteTransactions transactions;
    private final SqliteWrites writes;
    private final SqliteReads reads;
    private final GroupCommitWriter writer;
    /** Held from open to close: one gateway per journal file. */
    private final JournalLock lock;

    private SqliteJournal(Path file, JournalLock lock, SqliteTransactions transactions, SqliteReads reads,
                          ReplyIds replyIds, WallClock clock) {
        this.file = file;
        this.lock = lock;
        this.transactions = transactions;
        this.writerConnection = transactions.connection();
        this.writes = new SqliteWrites(file, transactions, replyIds, clock);
        this.reads = reads;
        this.writer = new GroupCommitWriter(file.toString(), transactions);
    }

    /**
     * Opens (creating if needed) the journal at {@code file}. A file that is not a readable, intact
     * journal stops here with a {@link JournalException} naming it; it is never replaced or reset.
     */
    public static SqliteJournal open(Path file, JournalSync sync) {
        return open(file, sync, WallClock.SYSTEM);
    }

    /** As {@link #open(Path, JournalSync)}, dating what it stores by {@code clock}. */
    public static SqliteJournal open(Path file, JournalSync sync, WallClock clock) {
        Connection writer = null;
        Connection reader = null;
        JournalLock lock = null;
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            if (Files.exists(file) && !Files.isReadable(file)) {
                throw new JournalException("journal " + file + " is not readable", null);
            }
            lock = JournalLock.acquire(file.toAbsolutePath());
            String url = "jdbc:sqlite:" + file.toAbsolutePath();
            writer = DriverManager.getConnection(url);
            try (Statement statement = writer.createStatement()) {
                statement.execute("PRAGMA busy_timeout = 5000");
                check(statement, "PRAGMA quick_check");
                statement.execute("PRAGMA journal_mode = WAL");
                statement.execute("PRAGMA synchronous = " + (sync == JournalSync.NORMAL ? "NORMAL" : "FULL"));
                statement.execute("PRAGMA foreign_keys = OFF");
            }
            SqliteSchema.create(writer, clock);
            String instanceId = instanceId(writer);
            writer.setAutoCommit(false);
            reader = DriverManager.getConnection(url);
            try (Statement statement = reader.createStatement()) {
                statement.execute("PRAGMA busy_timeout = 5000");
            }
            log.info("journal open path={} sync={} instance={}", file, sync.name().toLowerCase(), instanceId);
            DedupeIndex dedupe = loadDedupe(writer);
            Object fileKey = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
            ReplyIds replyIds = new ReplyIds(instanceId);
            return new SqliteJournal(file, lock, new SqliteTransactions(file, fileKey, writer, dedupe),
                    new SqliteReads(file, reader, replyIds), replyIds, clock);
        } catch (SQLException e) {
            closeQuietly(writer, reader, lock);
            throw new JournalException("journal " + file + " cannot be opened: " + e.getMessage()
                    + " (it is left as it is; move it aside to start with an empty journal)", e);
        } catch (IOException e) {
            closeQuietly(writer, reader, lock);
            throw new JournalException("journal " + file + " cannot be created: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(writer, reader, lock);
            throw e;
        }
    }

    /** What a failed open had made so far, any of it still null. */
    private static void closeQuietly(Connection writer, Connection reader, JournalLock lock) {
        SqliteTransactions.closeQuietly(writer);
        SqliteTransactions.closeQuietly(reader);
        if (lock != null) {
            lock.close();
        }
    }

    private static void check(Statement statement, String pragma) throws SQLException {
        try (ResultSet result = statement.executeQuery(pragma)) {
            String verdict = result.next() ? result.getString(1) : "no answer";
            if (!"ok".equalsIgnoreCase(verdict)) {
                throw new SQLException("integrity check failed: " + verdict);
            }
        }
    }

    private static String instanceId(Connection connection) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT value FROM meta WHERE key = 'instance'")) {
            ResultSet result = select.executeQuery();
            if (result.next()) {
                return result.getString(1);
            }
        }
        // Reply ids carry it: a new journal must never reuse an old one's reply ids.
        String id = ReplyIds.fresh().instanceId();
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO meta(key, value) VALUES ('instance', ?)")) {
            insert.setString(1, id);
            insert.executeUpdate();
        }
        return id;
    }

    private static DedupeIndex loadDedupe(Connection connection) throws SQLException {
        DedupeIndex index = new DedupeIndex();
        boolean unkeyed = false;
        try (Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT seq, dedupe_key FROM messages")) {
            while (rows.next()) {
                long key = rows.getLong(2);
                if (rows.wasNull()) {
                    unkeyed = true;
                } else {
                    index.add(key, rows.getLong(1));
                }
            }
        }
        if (unkeyed) {
            log.info("journal stored the dedupe keys of {} older messages", SqliteSchema.keyUnkeyedRows(connection, index));
        }
        return index;
    }

    /** A step run with the writer's connection; see {@link #onWriter}. */
    @FunctionalInterface
    interface WriterStep {
        void run(Connection writer) throws SQLException;
    }

    /**
     * Runs {@code step} on the writer thread with its connection, as a write of its own in the next batch.
     * For tests that make SQLite itself fail (e.g. {@code PRAGMA max_page_count}) or hold the writer.
     */
    CompletableFuture<Void> onWriter(WriterStep step) {
        return writer.submit(() -> {
            step.run(transactions.connection());
            return null;
        });
    }

    // ---- writes: each one runs on the writer thread, inside its batch's transaction ----------------------

    @Override
    public CompletableFuture<AppendResult> append(InboundMessage message) {
        return writer.submit(() -> writes.append(message));
    }

    @Override
    public CompletableFuture<List<AppendResult>> appendAll(List<InboundMessage> messages, ChannelCursor cursor) {
        List<InboundMessage> copy = List.copyOf(messages);
        return writer.submit(() -> writes.appendAll(copy, cursor));
    }

    @Override
    public Optional<String> cursor(String channel, String account) {
        return reads.cursor(channel, account);
    }

    @Override
    public CompletableFuture<Turn> startTurn(String sessionKey, List<InboundMessage> messages, String prompt) {
        return writer.submit(() -> writes.startTurn(sessionKey, messages, prompt));
    }

    @Override
    public CompletableFuture<Turn> joinTurn(Turn turn, InboundMessage message) {
        return writer.submit(() -> writes.joinTurn(turn, message));
    }

    @Override
    public CompletableFuture<Reply> completeTurn(Turn turn, String replyText) {
        return writer.submit(() -> writes.completeTurn(turn, replyText));
    }

    @Override
    public CompletableFuture<Reply> failTurn(Turn turn, String replyText, String reason) {
        return writer.submit(() -> writes.failTurn(turn, replyText, reason));
    }

    @Override
    public CompletableFuture<Void> supersedeTurn(Turn turn, String reason) {
        return writer.submit(() -> writes.supersedeTurn(turn, reason));
    }

    @Override
    public CompletableFuture<Void> dropMessages(List<InboundMessage> messages, String reason) {
        return writer.submit(() -> writes.dropMessages(messages, reason));
    }

    @Override
    public CompletableFuture<Reply> completeWithoutTurn(String sessionKey, InboundMessage message, String replyText) {
        return writer.submit(() -> writes.completeWithoutTurn(sessionKey, message, replyText));
    }

    @Override
    public CompletableFuture<Reply> recordNotice(String sessionKey, InboundMessage about, String text) {
        return writer.submit(() -> writes.recordNotice(sessionKey, about, text));
    }

    @Override
    public CompletableFuture<Void> resetSession(String sessionKey) {
        return writer.submit(() -> writes.resetSession(sessionKey));
    }

    @Override
    public CompletableFuture<Void> saveQueueDirective(String sessionKey, QueueOverride directive) {
        return writer.submit(() -> writes.saveQueueDirective(sessionKey, directive));
    }

    @Override
    public CompletableFuture<Void> markDelivered(String replyId) {
        return writer.submit(() -> writes.markDelivered(replyId));
    }

    @Override
    public CompletableFuture<Void> markFailed(String replyId, String reason) {
        return writer.submit(() -> writes.markFailed(replyId, reason));
    }

    @Override
    public CompletableFuture<Optional<Reply>> requeueFailed(String replyId) {
        return writer.submit(() -> writes.requeueFailed(replyId));
    }

    @Override
    public CompletableFuture<Integer> prune(long olderThanEpochMs, int keepExchanges) {
        return writer.submit(() -> writes.prune(olderThanEpochMs, keepExchanges));
    }

    // ---- reads ----------------------------------------------------------------------------------------------

    @Override
    public Map<String, QueueOverride> queueDirectives() {
        return reads.queueDirectives();
    }

    @Override
    public List<InboundMessage> pendingMessages() {
        return reads.pendingMessages();
    }

    @Override
    public List<Turn> openTurns() {
        return reads.openTurns();
    }

    @Override
    public List<Reply> undeliveredReplies() {
        return reads.undeliveredReplies();
    }

    @Override
    public List<FailedReply> failedReplies(int limit) {
        return reads.failedReplies(limit);
    }

    @Override
    public List<Exchange> transcript(String sessionKey, int limit) {
        return reads.transcript(sessionKey, limit);
    }

    @Override
    public List<SessionInfo> sessions(int offset, int limit) {
        return reads.sessions(offset, limit);
    }

    @Override
    public long sessionCount() {
        return reads.sessionCount();
    }

    @Override
    public JournalStats stats() {
        return reads.stats();
    }

    @Override
    public JournalHealth health() {
        return writer.health();
    }

    /** Commits what is queued, then closes the file. */
    @Override
    public void close() {
        writer.close();
        reads.close();
        SqliteTransactions.closeQuietly(writerConnection);
        lock.close();
        log.info("journal closed path={}", file);
    }
}
