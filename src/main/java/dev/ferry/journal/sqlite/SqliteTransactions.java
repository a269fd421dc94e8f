package dev.ferry.journal.sqlite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

import dev.ferry.journal.GroupCommitWriter;

/**
 * The writer's connection to the SQLite file: its transaction steps for {@link GroupCommitWriter}, its
 * prepared statements, and the dedupe index that must match what is committed. Ferry issues BEGIN, COMMIT
 * and ROLLBACK itself, because SQLite rolls a transaction back on its own after some failures
 * (SQLITE_FULL, I/O errors), and the driver then opens no new one, so later statements would commit one
 * by one. Not thread-safe: everything here belongs to the writer thread, from the first write on.
 */
final class SqliteTransactions implements GroupCommitWriter.Transactions {

    private final Path file;
    /** The identity (device and inode) of the file opened, to notice it being removed or replaced; null where unknown. */
    private final Object fileKey;
    /** Writer thread only, like every field below. */
    private final Connection connection;
    /** Holds exactly the keys of committed rows, as the writer's invariant between batches says. */
    private final DedupeIndex dedupe;
    /** Dedupe entries added by the open transaction: taken out again if it rolls back. */
    private final List<long[]> addedKeys = new ArrayList<>();
    /** Dedupe entries of rows the open transaction deleted: taken out only once it commits. */
    private final List<long[]> removedKeys = new ArrayList<>();
    private final Map<String, PreparedStatement> statements = new HashMap<>();

    /** {@code connection} has auto-commit off, so a transaction is open from the start. */
    SqliteTransactions(Path file, Object fileKey, Connection connection, DedupeIndex dedupe) {
        this.file = file;
        this.fileKey = fileKey;
        this.connection = connection;
        this.dedupe = dedupe;
    }

    /** The writer's connection, for the test seam that runs a step on it. */
    Connection connection() {
        return connection;
    }

    DedupeIndex dedupe() {
        return dedupe;
    }

    /** Adds a key of a row the open transaction inserted; it leaves again if the transaction rolls back. */
    void added(long key, long seq) {
        dedupe.add(key, seq);
        addedKeys.add(new long[] {key, seq});
    }

    /** Notes a key of a row the open transaction deleted; it leaves the index once the delete commits. */
    void removed(long key, long seq) {
        removedKeys.add(new long[] {key, seq});
    }

    /**
     * The writer's statements, prepared once: compiling SQL on every write would cost more than the write.
     */
    PreparedStatement cached(String sql) throws SQLException {
        PreparedStatement statement = statements.get(sql);
        if (statement == null) {
            statement = connection.prepareStatement(sql);
            statements.put(sql, statement);
        }
        statement.clearParameters();
        return statement;
    }

    int update(String sql, Object... args) throws SQLException {
        PreparedStatement statement = cached(sql);
        for (int i = 0; i < args.length; i++) {
            statement.setObject(i + 1, args[i]);
        }
        return statement.executeUpdate();
    }

    @Override
    public void begin() throws SQLException {
        execute("BEGIN");
    }

    @Override
    public void commit() throws SQLException {
        execute("COMMIT");
    }

    @Override
    public void rollback() {
        // The driver closes a statement whose step failed, so after a failure every cached one is prepared afresh.
        statements.values().forEach(SqliteTransactions::closeQuietly);
        statements.clear();
        try {
            execute("ROLLBACK");
        } catch (SQLException noTransaction) {
            // SQLite already rolled it back itself; the BEGIN after fails if a transaction is in fact still open.
        }
    }

    @Override
    public void committed() {
        addedKeys.clear();
        removedKeys.forEach(entry -> dedupe.remove(entry[0], entry[1]));
        removedKeys.clear();
    }

    @Override
    public void abandoned() {
        addedKeys.forEach(entry -> dedupe.remove(entry[0], entry[1]));
        addedKeys.clear();
        removedKeys.clear();
    }

    /** Rows this connection has changed since it opened. */
    @Override
    public long changes() throws SQLException {
        try (ResultSet row = cached("SELECT total_changes()").executeQuery()) {
            return row.next() ? row.getLong(1) : 0;
        }
    }

    @Override
    public boolean isDiskFull(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLiteException sqlite && sqlite.getResultCode() == SQLiteErrorCode.SQLITE_FULL) {
                return true;
            }
        }
        return false;
    }

    /** Whether the path still leads to the file this journal opened. */
    @Override
    public String lostStorage() {
        try {
            Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
            return Objects.equals(key, fileKey) ? null : "was replaced by another file";
        } catch (NoSuchFileException e) {
            return "was removed";
        } catch (IOException e) {
            return "cannot be found (" + e.getMessage() + ")";
        }
    }

    private void execute(String sql) throws SQLException {
        cached(sql).executeUpdate();
    }

    static void closeQuietly(AutoCloseable closeable) {
        if (closeable != null) {
            try {
                closeable.close();
            } catch (Exception ignored) {
                // Closing is best effort; the data is committed already.
            }
        }
    }
}
