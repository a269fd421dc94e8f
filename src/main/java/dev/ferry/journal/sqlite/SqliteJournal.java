package dev.ferry.journal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.DriverManager;
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
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.JournalSync;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueOverride;

/**
 * The durable journal: one SQLite file in WAL mode. Every write goes through one writer thread that
 * commits whatever is queued in one transaction (group commit), so concurrent appends share one sync;
 * a write's future completes only after its commit, and in commit order, on a separate completion
 * thread so that callers may chain further journal writes without deadlock. Reads use their own
 * connection. Thread-safe.
 *
 * <p>The writer's invariant: between batches its connection holds one open transaction with nothing in
 * it, and the dedupe index holds exactly the keys of committed rows. Ferry issues BEGIN, COMMIT and
 * ROLLBACK itself, because SQLite rolls a transaction back on its own after some failures (SQLITE_FULL,
 * I/O errors), and the driver then opens no new one, so later statements would commit one by one. A
 * failed write is rolled back and answered with its failure, never stored. While the disk is full every
 * write fails with {@link JournalUnavailableException} and {@link #health()} says so, until one commits
 * again. The writer also checks that the path still leads to the file it opened, after each batch and
 * every second when idle; once the file was removed or replaced, nothing is acknowledged any more.
 */
public final class SqliteJournal implements Journal {
    private static final Logger log = LoggerFactory.getLogger(SqliteJournal.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BATCH = 2_000;
    /** How long the writer waits for work before it looks at the file again. */
    private static final long IDLE_CHECK_SECONDS = 1;

    private final Path file;
    private final Connection writer;
    private final Connection reader;
    private final Object readLock = new Object();
    private final String instanceId;
    private final BlockingQueue<Write<?>> writes = new LinkedBlockingQueue<>();
    private final ExecutorService completions = Executors.newSingleThreadExecutor(daemon("ferry-journal-ack"));
    private final Thread writerThread;
    /** Owned by the writer thread, like the two undo lists below. */
    private final DedupeIndex dedupe;
    /** Dedupe entries added by the open transaction: taken out again if it rolls back. */
    private final List<long[]> addedKeys = new ArrayList<>();
    /** Dedupe entries of rows the open transaction deleted: taken out only once it commits. */
    private final List<long[]> removedKeys = new ArrayList<>();
    /** Writer thread only. */
    private final Map<String, PreparedStatement> statements = new HashMap<>();
    /** Writer thread only: false when a failure may have left a transaction open; the next batch restores it first. */
    private boolean resting = true;
    /** The identity (device and inode) of the file opened, to notice it being removed or replaced; null where unknown. */
    private final Object fileKey;
    /** Written by the writer thread only. */
    private volatile JournalHealth health = JournalHealth.OK;
    private volatile boolean closing;

    /** One write: runs inside the batch transaction; its future completes after the commit. */
    @FunctionalInterface
    private interface Body<T> {
        T run() throws SQLException;
    }

    private static final class Write<T> {
        final Body<T> body;
        final CompletableFuture<T> future = new CompletableFuture<>();
        T result;
        Throwable failure;

        Write(Body<T> body) {
            this.body = body;
        }
    }

    private SqliteJournal(Path file, Object fileKey, Connection writer, Connection reader, String instanceId,
                          DedupeIndex dedupe) {
        this.dedupe = dedupe;
        this.file = file;
        this.fileKey = fileKey;
        this.writer = writer;
        this.reader = reader;
        this.instanceId = instanceId;
        this.writerThread = new Thread(this::writeLoop, "ferry-journal-writer");
        this.writerThread.setDaemon(true);
        this.writerThread.start();
    }

    /**
     * Opens (creating if needed) the journal at {@code file}. A file that is not a readable, intact
     * journal stops here with a {@link JournalException} naming it; it is never replaced or reset.
     */
    public static SqliteJournal open(Path file, JournalSync sync) {
        Connection writer = null;
        Connection reader = null;
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            if (Files.exists(file) && !Files.isReadable(file)) {
                throw new JournalException("journal " + file + " is not readable", null);
            }
            String url = "jdbc:sqlite:" + file.toAbsolutePath();
            writer = DriverManager.getConnection(url);
            try (Statement statement = writer.createStatement()) {
                statement.execute("PRAGMA busy_timeout = 5000");
                check(statement, "PRAGMA quick_check");
                statement.execute("PRAGMA journal_mode = WAL");
                statement.execute("PRAGMA synchronous = " + (sync == JournalSync.NORMAL ? "NORMAL" : "FULL"));
                statement.execute("PRAGMA foreign_keys = OFF");
            }
            SqliteSchema.create(writer);
            String instanceId = instanceId(writer);
            writer.setAutoCommit(false);
            reader = DriverManager.getConnection(url);
            try (Statement statement = reader.createStatement()) {
                statement.execute("PRAGMA busy_timeout = 5000");
            }
            log.info("journal open path={} sync={} instance={}", file, sync.name().toLowerCase(), instanceId);
            DedupeIndex dedupe = loadDedupe(writer);
            Object fileKey = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
            return new SqliteJournal(file, fileKey, writer, reader, instanceId, dedupe);
        } catch (SQLException e) {
            closeQuietly(writer);
            closeQuietly(reader);
            throw new JournalException("journal " + file + " cannot be opened: " + e.getMessage()
                    + " (it is left as it is; move it aside to start with an empty journal)", e);
        } catch (IOException e) {
            closeQuietly(writer);
            closeQuietly(reader);
            throw new JournalException("journal " + file + " cannot be created: " + e.getMessage(), e);
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
        String id = UUID.randomUUID().toString().substring(0, 8);
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

    // ---- the writer ---------------------------------------------------------------------------------------

    private <T> CompletableFuture<T> submit(Body<T> body) {
        Write<T> write = new Write<>(body);
        if (closing) {
            write.future.completeExceptionally(new JournalException("journal " + file + " is closed", null));
            return write.future;
        }
        writes.add(write);
        if (closing && !writerThread.isAlive()) {
            failLeftovers();
        }
        return write.future;
    }

    private void writeLoop() {
        List<Write<?>> batch = new ArrayList<>();
        try {
            while (!(closing && writes.isEmpty())) {
                Write<?> first = writes.poll(IDLE_CHECK_SECONDS, TimeUnit.SECONDS);
                if (first == null) {
                    checkFile();
                    continue;
                }
                batch.add(first);
                writes.drainTo(batch, MAX_BATCH - 1);
                commit(batch);
                batch.clear();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            failLeftovers();
        }
    }

    /** A write that slipped in while the writer was stopping must fail, never wait forever. */
    private void failLeftovers() {
        List<Write<?>> left = new ArrayList<>();
        writes.drainTo(left);
        JournalException closed = new JournalException("journal " + file + " is closed", null);
        left.forEach(write -> write.future.completeExceptionally(closed));
    }

    /**
     * Runs the batch in one transaction. If a write fails, the transaction is rolled back and every
     * write of the batch is run again in a transaction of its own, so one bad write spoils no other;
     * the common case pays for no savepoints. A full disk spoils every write alike, so then the whole
     * batch fails at once. Nothing is acknowledged that went into a file no longer at the path.
     */
    private void commit(List<Write<?>> batch) {
        if (health.state() != JournalHealth.State.FILE_LOST) {
            Throwable failure = attempt(batch);
            if (failure != null && batch.size() > 1 && !isDiskFull(failure)) {
                batch.forEach(write -> write.failure = failureOf(attempt(List.of(write))));
            } else {
                Throwable answer = failureOf(failure);
                batch.forEach(write -> write.failure = answer);
            }
            checkFile();
        }
        if (health.state() == JournalHealth.State.FILE_LOST) {
            JournalUnavailableException lost = new JournalUnavailableException(health.problem(), null);
            batch.forEach(write -> write.failure = lost);
        }
        List<Write<?>> done = List.copyOf(batch);
        completions.execute(() -> done.forEach(SqliteJournal::complete));
    }

    /** Runs {@code writes} in one transaction and commits it; on any failure rolls it all back and returns why. */
    private Throwable attempt(List<Write<?>> writes) {
        try {
            if (!resting) {
                restore();
            }
            long changesBefore = health.state() == JournalHealth.State.DISK_FULL ? totalChanges() : 0;
            for (Write<?> write : writes) {
                run(write);
            }
            commitTransaction(changesBefore);
            return null;
        } catch (SQLException | RuntimeException e) {
            abandonTransaction();
            return e;
        }
    }

    /** Once COMMIT returns the writes are stored, so nothing after it may fail them. */
    private void commitTransaction(long changesBefore) throws SQLException {
        execute("COMMIT");
        addedKeys.clear();
        removedKeys.forEach(entry -> dedupe.remove(entry[0], entry[1]));
        removedKeys.clear();
        try {
            // Only a commit that stored something shows there is space again: an empty one needs none.
            if (health.state() == JournalHealth.State.DISK_FULL && totalChanges() != changesBefore) {
                health = JournalHealth.OK;
                log.info("journal writable again path={} (space was freed)", file);
            }
            execute("BEGIN");
        } catch (SQLException e) {
            resting = false;
        }
    }

    /** Takes back what the failed transaction did, in the file and in memory. */
    private void abandonTransaction() {
        addedKeys.forEach(entry -> dedupe.remove(entry[0], entry[1]));
        addedKeys.clear();
        removedKeys.clear();
        try {
            restore();
        } catch (SQLException e) {
            resting = false;
            log.warn("journal rollback failed path={} reason={} (retried before the next write)", file, e.getMessage());
        }
    }

    /** Rolls back whatever transaction is open, if any, and begins the next one. */
    private void restore() throws SQLException {
        // The driver closes a statement whose step failed, so after a failure every cached one is prepared afresh.
        statements.values().forEach(SqliteJournal::closeQuietly);
        statements.clear();
        try {
            execute("ROLLBACK");
        } catch (SQLException noTransaction) {
            // SQLite already rolled it back itself; BEGIN below fails if a transaction is in fact still open.
        }
        execute("BEGIN");
        resting = true;
    }

    private void execute(String sql) throws SQLException {
        cached(sql).executeUpdate();
    }

    /** Rows this connection has changed since it opened. */
    private long totalChanges() throws SQLException {
        try (ResultSet row = cached("SELECT total_changes()").executeQuery()) {
            return row.next() ? row.getLong(1) : 0;
        }
    }

    /** What a write that failed with {@code failure} is answered: a full disk as unavailability, noted once per episode. */
    private Throwable failureOf(Throwable failure) {
        if (failure == null || !isDiskFull(failure)) {
            return failure;
        }
        if (health.state() == JournalHealth.State.WRITABLE) {
            health = new JournalHealth(JournalHealth.State.DISK_FULL,
                    "journal " + file + ": disk full; writes fail until space is freed");
            log.error("journal disk full path={}: writes fail, and nothing is acknowledged, until space is freed", file);
        }
        return new JournalUnavailableException("journal " + file
                + ": disk full, so nothing of this write was stored; writes resume once space is freed", failure);
    }

    private static boolean isDiskFull(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLiteException sqlite && sqlite.getResultCode() == SQLiteErrorCode.SQLITE_FULL) {
                return true;
            }
        }
        return false;
    }

    /** Notes, once, that the path no longer leads to the file this journal writes. Writer thread only. */
    private void checkFile() {
        if (health.state() == JournalHealth.State.FILE_LOST) {
            return;
        }
        String what;
        try {
            Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
            what = Objects.equals(key, fileKey) ? null : "was replaced by another file";
        } catch (NoSuchFileException e) {
            what = "was removed";
        } catch (IOException e) {
            what = "cannot be found (" + e.getMessage() + ")";
        }
        if (what != null) {
            health = new JournalHealth(JournalHealth.State.FILE_LOST, "journal " + file + " " + what
                    + " while Ferry was running: nothing is written or acknowledged any more; put the journal"
                    + " file back, then restart Ferry (a start without it begins an empty journal)");
            log.error("journal file lost path={} reason=\"{}\": every write fails until the file is back and Ferry restarts", file, what);
        }
    }

    private <T> void run(Write<T> write) throws SQLException {
        write.result = write.body.run();
    }

    private static <T> void complete(Write<T> write) {
        if (write.failure != null) {
            write.future.completeExceptionally(write.failure);
        } else {
            write.future.complete(write.result);
        }
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
        return submit(() -> {
            step.run(writer);
            return null;
        });
    }

    // ---- writes --------------------------------------------------------------------------------------------

    /**
     * The writer's statements, prepared once: compiling SQL on every write would cost more than the write.
     * Used only by the writer thread.
     */
    private PreparedStatement cached(String sql) throws SQLException {
        PreparedStatement statement = statements.get(sql);
        if (statement == null) {
            statement = writer.prepareStatement(sql);
            statements.put(sql, statement);
        }
        statement.clearParameters();
        return statement;
    }

    @Override
    public CompletableFuture<AppendResult> append(InboundMessage message) {
        return submit(() -> {
            long key = DedupeIndex.keyOf(message.channel(), message.account(), message.conversation(), message.messageId());
            long earlier = dedupe.find(key, seq -> isSameMessage(seq, message));
            if (earlier >= 0) {
                bumpCounter("duplicates");
                return new AppendResult(earlier, true);
            }
            // RETURNING gives the seq in the same step; the driver's generated-keys call would compile a
            // second query every time.
            PreparedStatement insert = cached("INSERT INTO messages(channel, account, conversation, sender,"
                    + " message_id, text, thread_id, reply_to_id, media, received_at, dedupe_key)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq");
            insert.setString(1, message.channel());
            insert.setString(2, message.account());
            insert.setString(3, message.conversation());
            insert.setString(4, message.sender());
            insert.setString(5, message.messageId());
            insert.setString(6, message.text());
            insert.setString(7, message.threadId());
            insert.setString(8, message.replyToId());
            insert.setString(9, message.media().isEmpty() ? null : json(message.media()));
            insert.setLong(10, message.receivedAtEpochMs());
            insert.setLong(11, key);
            long seq;
            try (ResultSet inserted = insert.executeQuery()) {
                inserted.next();
                seq = inserted.getLong(1);
            }
            dedupe.add(key, seq);
            addedKeys.add(new long[] {key, seq});
            return new AppendResult(seq, false);
        });
    }

    /** Whether the stored message {@code seq} has the dedupe identity of {@code message}; keys can collide. */
    private boolean isSameMessage(long seq, InboundMessage message) {
        try {
            PreparedStatement select = cached("SELECT channel, account, conversation, message_id FROM messages WHERE seq = ?");
            select.setLong(1, seq);
            try (ResultSet row = select.executeQuery()) {
                return row.next() && row.getString(1).equals(message.channel()) && row.getString(2).equals(message.account())
                        && row.getString(3).equals(message.conversation()) && row.getString(4).equals(message.messageId());
            }
        } catch (SQLException e) {
            throw new JournalException("journal " + file + " read failed: " + e.getMessage(), e);
        }
    }

    @Override
    public CompletableFuture<Turn> startTurn(String sessionKey, List<InboundMessage> messages, String prompt) {
        return submit(() -> {
            PreparedStatement insert = cached(
                    "INSERT INTO turns(session_key, prompt, created_at) VALUES (?, ?, ?) RETURNING id");
            insert.setString(1, sessionKey);
            insert.setString(2, prompt);
            insert.setLong(3, System.currentTimeMillis());
            long turnId;
            try (ResultSet inserted = insert.executeQuery()) {
                inserted.next();
                turnId = inserted.getLong(1);
            }
            claim(messages, turnId);
            return new Turn(turnId, replyId(turnId), sessionKey, messages, prompt);
        });
    }

    /** Reply ids derive from the turn: the same turn, run again after a crash, answers with the same id. */
    private String replyId(long turnId) {
        return "fr-" + instanceId + "-" + turnId;
    }

    /** Puts pending messages that are in no turn into the turn; any other message fails the whole write. */
    private void claim(List<InboundMessage> messages, long turnId) throws SQLException {
        PreparedStatement update = cached(
                "UPDATE messages SET turn_id = ? WHERE seq = ? AND state = 0 AND turn_id IS NULL");
        for (InboundMessage message : messages) {
            update.setLong(1, turnId);
            update.setLong(2, message.seq());
            if (update.executeUpdate() != 1) {
                throw refusal(message.seq());
            }
        }
    }

    /** Why a message cannot join a turn; only looked up once the claim failed. */
    private IllegalStateException refusal(long seq) throws SQLException {
        PreparedStatement select = cached("SELECT state, turn_id FROM messages WHERE seq = ?");
        select.setLong(1, seq);
        ResultSet row = select.executeQuery();
        if (!row.next() || row.getInt(1) != SqliteSchema.PENDING) {
            return new IllegalStateException("message seq=" + seq + " is not pending");
        }
        return new IllegalStateException("message seq=" + seq + " already belongs to turn " + row.getLong(2));
    }

    @Override
    public CompletableFuture<Turn> joinTurn(Turn turn, InboundMessage message) {
        return submit(() -> {
            claim(List.of(message), turn.id());
            Turn joined = turn.including(message);
            update("UPDATE turns SET prompt = ? WHERE id = ?", joined.prompt(), turn.id());
            return joined;
        });
    }

    @Override
    public CompletableFuture<Reply> completeTurn(Turn turn, String replyText) {
        return submit(() -> {
            long now = System.currentTimeMillis();
            settle(turn.messages(), SqliteSchema.DONE, null, now);
            update("UPDATE turns SET state = 1 WHERE id = ?", turn.id());
            PreparedStatement insert = cached("INSERT INTO transcript(session_key, turn_id, prompt, reply, completed_at) VALUES (?, ?, ?, ?, ?)");
            insert.setString(1, turn.sessionKey());
            insert.setLong(2, turn.id());
            insert.setString(3, turn.prompt());
            insert.setString(4, replyText);
            insert.setLong(5, now);
            insert.executeUpdate();
            Reply reply = Reply.answering(turn.replyId(), turn.id(), turn.sessionKey(), turn.messages(), replyText);
            putInOutbox(reply, now);
            return reply;
        });
    }

    @Override
    public CompletableFuture<Void> supersedeTurn(Turn turn, String reason) {
        return submit(() -> {
            settle(turn.messages(), SqliteSchema.SUPERSEDED, reason, System.currentTimeMillis());
            update("UPDATE turns SET state = 2 WHERE id = ?", turn.id());
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> dropMessages(List<InboundMessage> messages, String reason) {
        return submit(() -> {
            settle(messages, SqliteSchema.DROPPED, reason, System.currentTimeMillis());
            return null;
        });
    }

    @Override
    public CompletableFuture<Reply> completeWithoutTurn(String sessionKey, InboundMessage message, String replyText) {
        return submit(() -> {
            long now = System.currentTimeMillis();
            settle(List.of(message), SqliteSchema.DONE, null, now);
            Reply reply = Reply.answering("fr-" + instanceId + "-c" + message.seq(), 0, sessionKey, List.of(message),
                    replyText);
            putInOutbox(reply, now);
            return reply;
        });
    }

    @Override
    public CompletableFuture<Reply> recordNotice(String sessionKey, InboundMessage about, String text) {
        return submit(() -> {
            String replyId = "fr-" + instanceId + "-n" + UUID.randomUUID().toString().substring(0, 13);
            Reply notice = Reply.notice(replyId, sessionKey, about, text);
            putInOutbox(notice, System.currentTimeMillis());
            return notice;
        });
    }

    @Override
    public CompletableFuture<Void> resetSession(String sessionKey) {
        return submit(() -> {
            update("DELETE FROM transcript WHERE session_key = ?", sessionKey);
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> saveQueueDirective(String sessionKey, QueueOverride directive) {
        return submit(() -> {
            if (directive == null || directive.isEmpty()) {
                update("DELETE FROM sessions WHERE session_key = ?", sessionKey);
            } else {
                update("INSERT OR REPLACE INTO sessions(session_key, queue_directive, updated_at) VALUES (?, ?, ?)",
                        sessionKey, json(directiveMap(directive)), System.currentTimeMillis());
            }
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> markDelivered(String replyId) {
        return submit(() -> {
            update("UPDATE outbox SET delivered_at = ? WHERE reply_id = ?", System.currentTimeMillis(), replyId);
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> markFailed(String replyId, String reason) {
        return submit(() -> {
            update("UPDATE outbox SET failed_at = ?, failure = ? WHERE reply_id = ? AND delivered_at IS NULL",
                    System.currentTimeMillis(), reason, replyId);
            return null;
        });
    }

    @Override
    public CompletableFuture<Optional<Reply>> requeueFailed(String replyId) {
        return submit(() -> {
            PreparedStatement requeue = cached("UPDATE outbox SET failed_at = NULL, failure = NULL"
                    + " WHERE reply_id = ? AND failed_at IS NOT NULL RETURNING *");
            requeue.setString(1, replyId);
            try (ResultSet row = requeue.executeQuery()) {
                return row.next() ? Optional.of(replyFrom(row)) : Optional.empty();
            }
        });
    }

    @Override
    public CompletableFuture<Integer> prune(long olderThanEpochMs, int keepExchanges) {
        return submit(() -> pruneMessages(olderThanEpochMs)
                + update("DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?", olderThanEpochMs)
                + update("DELETE FROM outbox WHERE failed_at < ?", olderThanEpochMs)
                + update("DELETE FROM turns WHERE state <> 0 AND created_at < ?", olderThanEpochMs)
                + update(PRUNE_TRANSCRIPT, keepExchanges, olderThanEpochMs)
                + update("DELETE FROM sessions WHERE updated_at < ? AND session_key NOT IN (SELECT session_key FROM transcript)"
                        + " AND session_key NOT IN (SELECT session_key FROM turns WHERE state = 0)", olderThanEpochMs));
    }

    /**
     * Deletes each session's exchanges older than the cutoff (?2) except its newest ?1. Each session's newest
     * exchange to go is found by one seek in the index: at 100,000 sessions of 20 exchanges this holds the
     * writer about 1 s (0.45 s of CPU) when nothing is due, where ranking every row with a window took 5 s.
     */
    private static final String PRUNE_TRANSCRIPT = """
            DELETE FROM transcript WHERE id IN (
              SELECT t.id FROM (
                SELECT s.session_key, (SELECT n.id FROM transcript n WHERE n.session_key = s.session_key
                                       ORDER BY n.id DESC LIMIT 1 OFFSET ?) AS newest_pruned
                FROM (SELECT DISTINCT session_key FROM transcript) s) b
              JOIN transcript t ON t.session_key = b.session_key AND t.id <= b.newest_pruned
              WHERE t.completed_at < ?)""";

    /** Deletes settled messages and notes their dedupe entries, which leave the index when the delete commits. */
    private int pruneMessages(long olderThanEpochMs) throws SQLException {
        PreparedStatement delete = cached("DELETE FROM messages WHERE state <> 0 AND settled_at < ? RETURNING seq, dedupe_key");
        delete.setLong(1, olderThanEpochMs);
        int deleted = 0;
        try (ResultSet rows = delete.executeQuery()) {
            while (rows.next()) {
                removedKeys.add(new long[] {rows.getLong(2), rows.getLong(1)});
                deleted++;
            }
        }
        return deleted;
    }

    private void settle(List<InboundMessage> messages, int state, String reason, long now)
            throws SQLException {
        PreparedStatement update = cached("UPDATE messages SET state = ?, reason = ?, settled_at = ? WHERE seq = ? AND state = 0");
        for (InboundMessage message : messages) {
            update.setInt(1, state);
            update.setString(2, reason);
            update.setLong(3, now);
            update.setLong(4, message.seq());
            update.executeUpdate();
        }
    }

    private void putInOutbox(Reply reply, long now) throws SQLException {
        // OR IGNORE: a turn completed twice (a replay racing a slow commit) keeps its first reply, never a second.
        PreparedStatement insert = cached("INSERT OR IGNORE INTO outbox(reply_id, turn_id, session_key, channel, account, conversation, recipient,"
                    + " thread_id, text, in_reply_to, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        insert.setString(1, reply.replyId());
        insert.setLong(2, reply.turnId());
        insert.setString(3, reply.sessionKey());
        insert.setString(4, reply.channel());
        insert.setString(5, reply.account());
        insert.setString(6, reply.conversation());
        insert.setString(7, reply.to());
        insert.setString(8, reply.threadId());
        insert.setString(9, reply.text());
        insert.setString(10, json(reply.inReplyTo()));
        insert.setLong(11, now);
        insert.executeUpdate();
    }

    private void bumpCounter(String key) throws SQLException {
        update("INSERT INTO meta(key, value) VALUES (?, '1')"
                + " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1", key);
    }

    private int update(String sql, Object... args) throws SQLException {
        PreparedStatement statement = cached(sql);
        for (int i = 0; i < args.length; i++) {
            statement.setObject(i + 1, args[i]);
        }
        return statement.executeUpdate();
    }


    // ---- reads --------------------------------------------------------------------------------------------

    @FunctionalInterface
    private interface Read<T> {
        T run(Connection connection) throws SQLException;
    }

    private <T> T read(Read<T> body) {
        synchronized (readLock) {
            try {
                return body.run(reader);
            } catch (SQLException e) {
                throw new JournalException("journal " + file + " read failed: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public Map<String, QueueOverride> queueDirectives() {
        return read(connection -> {
            try (PreparedStatement select = connection.prepareStatement("SELECT session_key, queue_directive FROM sessions")) {
                ResultSet rows = select.executeQuery();
                Map<String, QueueOverride> directives = new HashMap<>();
                while (rows.next()) {
                    directives.put(rows.getString(1), directiveFrom(rows.getString(2)));
                }
                return directives;
            }
        });
    }

    @Override
    public List<InboundMessage> pendingMessages() {
        return read(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT * FROM messages WHERE state = 0 ORDER BY seq")) {
                return messagesFrom(select.executeQuery());
            }
        });
    }

    @Override
    public List<Turn> openTurns() {
        return read(connection -> {
            Map<Long, List<InboundMessage>> byTurn = new LinkedHashMap<>();
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT * FROM messages WHERE state = 0 AND turn_id IS NOT NULL ORDER BY seq")) {
                ResultSet rows = select.executeQuery();
                while (rows.next()) {
                    byTurn.computeIfAbsent(rows.getLong("turn_id"), id -> new ArrayList<>()).add(messageFrom(rows));
                }
            }
            List<Turn> turns = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT id, session_key, prompt FROM turns WHERE state = 0 ORDER BY id")) {
                ResultSet rows = select.executeQuery();
                while (rows.next()) {
                    List<InboundMessage> messages = byTurn.get(rows.getLong(1));
                    if (messages != null) {
                        turns.add(new Turn(rows.getLong(1), replyId(rows.getLong(1)), rows.getString(2), messages,
                                rows.getString(3)));
                    }
                }
            }
            return turns;
        });
    }

    @Override
    public List<Reply> undeliveredReplies() {
        return read(connection -> {
            List<Reply> replies = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT * FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL ORDER BY created_at, rowid")) {
                ResultSet rows = select.executeQuery();
                while (rows.next()) {
                    replies.add(replyFrom(rows));
                }
            }
            return replies;
        });
    }

    @Override
    public List<FailedReply> failedReplies(int limit) {
        return read(connection -> {
            List<FailedReply> failed = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT * FROM outbox WHERE failed_at IS NOT NULL ORDER BY failed_at DESC, rowid DESC LIMIT ?")) {
                select.setInt(1, Math.max(limit, 0));
                ResultSet rows = select.executeQuery();
                while (rows.next()) {
                    failed.add(new FailedReply(replyFrom(rows), rows.getString("failure"), rows.getLong("failed_at")));
                }
            }
            return failed;
        });
    }

    private static Reply replyFrom(ResultSet row) throws SQLException {
        return new Reply(row.getString("reply_id"), row.getLong("turn_id"), row.getString("session_key"),
                row.getString("channel"), row.getString("account"), row.getString("conversation"),
                row.getString("recipient"), row.getString("thread_id"), row.getString("text"),
                fromJson(row.getString("in_reply_to"), new TypeReference<List<String>>() {}));
    }

    @Override
    public List<Exchange> transcript(String sessionKey, int limit) {
        if (limit <= 0) {
            return List.of();
        }
        return read(connection -> {
            List<Exchange> exchanges = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT turn_id, prompt, reply, completed_at FROM transcript WHERE session_key = ? ORDER BY id DESC LIMIT ?")) {
                select.setString(1, sessionKey);
                select.setInt(2, limit);
                ResultSet rows = select.executeQuery();
                while (rows.next()) {
                    exchanges.add(new Exchange(rows.getLong(1), rows.getString(2), rows.getString(3), rows.getLong(4)));
                }
            }
            Collections.reverse(exchanges);
            return exchanges;
        });
    }

    @Override
    public List<SessionInfo> sessions(int offset, int limit) {
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

    @Override
    public long sessionCount() {
        return read(connection -> {
            try (Statement statement = connection.createStatement();
                 ResultSet count = statement.executeQuery("SELECT COUNT(DISTINCT session_key) FROM transcript")) {
                return count.next() ? count.getLong(1) : 0;
            }
        });
    }

    @Override
    public JournalHealth health() {
        return health;
    }

    @Override
    public JournalStats stats() {
        return read(connection -> {
            Map<Integer, Long> byState = new HashMap<>();
            try (Statement statement = connection.createStatement()) {
                ResultSet rows = statement.executeQuery("SELECT state, COUNT(*) FROM messages GROUP BY state");
                while (rows.next()) {
                    byState.put(rows.getInt(1), rows.getLong(2));
                }
                ResultSet outbox = statement.executeQuery(
                        "SELECT COUNT(*) - COUNT(failed_at), COUNT(failed_at) FROM outbox WHERE delivered_at IS NULL");
                long outboxPending = outbox.next() ? outbox.getLong(1) : 0;
                long outboxFailed = outbox.getLong(2);
                ResultSet dup = statement.executeQuery("SELECT value FROM meta WHERE key = 'duplicates'");
                long duplicates = dup.next() ? Long.parseLong(dup.getString(1)) : 0;
                long received = byState.values().stream().mapToLong(Long::longValue).sum();
                return new JournalStats(received, duplicates, byState.getOrDefault(SqliteSchema.DONE, 0L),
                        byState.getOrDefault(SqliteSchema.DROPPED, 0L), byState.getOrDefault(SqliteSchema.SUPERSEDED, 0L),
                        byState.getOrDefault(SqliteSchema.PENDING, 0L), outboxPending, outboxFailed);
            }
        });
    }

    private static List<InboundMessage> messagesFrom(ResultSet rows) throws SQLException {
        List<InboundMessage> messages = new ArrayList<>();
        while (rows.next()) {
            messages.add(messageFrom(rows));
        }
        return messages;
    }

    private static InboundMessage messageFrom(ResultSet row) throws SQLException {
        String media = row.getString("media");
        return new InboundMessage(row.getLong("seq"), row.getString("channel"), row.getString("account"),
                row.getString("conversation"), row.getString("sender"), row.getString("message_id"), row.getString("text"),
                row.getString("thread_id"), row.getString("reply_to_id"),
                media == null ? List.of() : fromJson(media, new TypeReference<List<Media>>() {}),
                row.getLong("received_at"));
    }

    private static Map<String, Object> directiveMap(QueueOverride directive) {
        Map<String, Object> map = new LinkedHashMap<>();
        if (directive.mode() != null) {
            map.put("mode", directive.mode().configName());
        }
        if (directive.debounceMs() != null) {
            map.put("debounceMs", directive.debounceMs());
        }
        if (directive.cap() != null) {
            map.put("cap", directive.cap());
        }
        if (directive.drop() != null) {
            map.put("drop", directive.drop().configName());
        }
        if (directive.maxWaitMs() != null) {
            map.put("maxWaitMs", directive.maxWaitMs());
        }
        return map;
    }

    private static QueueOverride directiveFrom(String text) {
        Map<String, Object> map = fromJson(text, new TypeReference<Map<String, Object>>() {});
        return new QueueOverride(
                map.containsKey("mode") ? QueueMode.parse((String) map.get("mode")).orElse(null) : null,
                map.containsKey("debounceMs") ? ((Number) map.get("debounceMs")).longValue() : null,
                map.containsKey("cap") ? ((Number) map.get("cap")).intValue() : null,
                map.containsKey("drop") ? DropPolicy.parse((String) map.get("drop")).orElse(null) : null,
                map.containsKey("maxWaitMs") ? ((Number) map.get("maxWaitMs")).longValue() : null);
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("journal values always serialise", e);
        }
    }

    private static <T> T fromJson(String text, TypeReference<T> type) {
        try {
            return JSON.readValue(text, type);
        } catch (JsonProcessingException e) {
            throw new JournalException("journal holds unreadable JSON: " + e.getOriginalMessage(), e);
        }
    }

    // ---- closing ------------------------------------------------------------------------------------------

    /** Commits what is queued, then closes the file. */
    @Override
    public void close() {
        closing = true;
        // Wakes the writer at once instead of at its next poll; committing a no-op costs nothing.
        writes.add(new Write<>(() -> null));
        try {
            writerThread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        completions.shutdown();
        try {
            completions.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failLeftovers();
        synchronized (readLock) {
            closeQuietly(reader);
        }
        closeQuietly(writer);
        log.info("journal closed path={}", file);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable != null) {
            try {
                closeable.close();
            } catch (Exception ignored) {
                // Closing is best effort; the data is committed already.
            }
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
