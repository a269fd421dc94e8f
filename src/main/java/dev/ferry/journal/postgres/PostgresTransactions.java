package dev.ferry.journal.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.journal.GroupCommitWriter;

/**
 * The writer's connection to PostgreSQL: its transaction steps for {@link GroupCommitWriter}, its prepared
 * statements, and what the open transaction promises to memory once it commits. With auto-commit off the
 * driver begins each transaction at its first statement, so {@link #begin} has nothing to send. A
 * connection that broke (the server restarted, the network dropped) is replaced when the writer rolls
 * back, so the next write finds a working one. Not thread-safe: everything here belongs to the writer thread.
 */
final class PostgresTransactions implements GroupCommitWriter.Transactions {
    private static final Logger log = LoggerFactory.getLogger(PostgresTransactions.class);
    /** PostgreSQL's {@code disk_full}. */
    private static final String DISK_FULL = "53100";

    private final Connector connector;
    /** Writer thread only, like every field below. */
    private Connection connection;
    private final Map<String, PreparedStatement> statements = new HashMap<>();
    /** What memory learns once the open transaction commits (a lease taken, a turn started); dropped on rollback. */
    private final List<Runnable> onCommit = new ArrayList<>();
    private final List<Runnable> onAbandon = new ArrayList<>();
    /** Leases the open transaction claimed, by session key: a second write of the batch finds them here. */
    final Map<String, Long> claimed = new HashMap<>();
    /** Statements run inside transactions that committed: a commit that ran any proves there is space again. */
    private long committedStatements;
    private long statementsInTransaction;

    PostgresTransactions(Connector connector, Connection connection) throws SQLException {
        this.connector = connector;
        this.connection = connection;
        connection.setAutoCommit(false);
    }

    Connection connection() {
        return connection;
    }

    /** The writer's statements, prepared once per connection. */
    PreparedStatement cached(String sql) throws SQLException {
        PreparedStatement statement = statements.get(sql);
        if (statement == null) {
            statement = connection.prepareStatement(sql);
            statements.put(sql, statement);
        }
        statement.clearParameters();
        statementsInTransaction++;
        return statement;
    }

    int update(String sql, Object... args) throws SQLException {
        PreparedStatement statement = cached(sql);
        for (int i = 0; i < args.length; i++) {
            statement.setObject(i + 1, args[i]);
        }
        return statement.executeUpdate();
    }

    /** Runs {@code action} once the open transaction commits; never if it rolls back. */
    void onCommit(Runnable action) {
        onCommit.add(action);
    }

    /** Runs {@code action} if the open transaction rolls back, undoing what a write put in memory ahead of its commit. */
    void onAbandon(Runnable action) {
        onAbandon.add(action);
    }

    @Override
    public void begin() {
        statementsInTransaction = 0;
    }

    @Override
    public void commit() throws SQLException {
        connection.commit();
        committedStatements += statementsInTransaction;
    }

    @Override
    public void rollback() throws SQLException {
        onCommit.clear();
        try {
            connection.rollback();
        } catch (SQLException e) {
            if (connection.isValid(5)) {
                throw e;
            }
            reconnect(e);
        }
    }

    /** Replaces a broken connection; a failure here leaves the writer to try again before its next write. */
    private void reconnect(SQLException why) throws SQLException {
        log.warn("journal connection lost database={} reason={}; reconnecting", connector, why.getMessage());
        statements.values().forEach(PostgresTransactions::closeQuietly);
        statements.clear();
        closeQuietly(connection);
        Connection fresh = connector.open();
        fresh.setAutoCommit(false);
        connection = fresh;
        log.info("journal connection restored database={}", connector);
    }

    @Override
    public void committed() {
        claimed.clear();
        onCommit.forEach(Runnable::run);
        onCommit.clear();
        onAbandon.clear();
    }

    @Override
    public void abandoned() {
        claimed.clear();
        onAbandon.forEach(Runnable::run);
        onAbandon.clear();
        onCommit.clear();
    }

    @Override
    public long changes() {
        return committedStatements;
    }

    @Override
    public boolean isDiskFull(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && DISK_FULL.equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /** A database has no file to lose; a lost connection is replaced at the next rollback instead. */
    @Override
    public String lostStorage() {
        return null;
    }

    static void closeQuietly(AutoCloseable closeable) {
        if (closeable != null) {
            try {
                closeable.close();
            } catch (Exception ignored) {
                // Best effort: the connection is being replaced or closed.
            }
        }
    }
}
