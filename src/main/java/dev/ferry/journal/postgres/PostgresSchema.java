package dev.ferry.journal.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import dev.ferry.journal.MessageState;
import dev.ferry.journal.TurnState;

/**
 * The shared journal's tables: those of the SQLite journal, with what several writers need on top.
 * Messages carry a unique index on their dedupe identity, since gateways that never see each other's
 * memory must agree on a duplicate, and their session key, so the gateway holding a session finds the
 * messages another one appended for it ({@code appended_by} names the gateway that did, so the holder
 * reads only those). {@code session_leases} says which gateway runs each session, at
 * which epoch, until when (by the database's clock); outbox rows carry the claim of the gateway sending
 * them; {@code instances} holds each gateway's heartbeat; {@code leaders} the Telegram poller's lease.
 */
final class PostgresSchema {

    static final int PENDING = MessageState.PENDING.code();
    static final int OPEN = TurnState.OPEN.code();
    /** Taken while creating, so gateways starting together do not race on the catalog. */
    private static final long CREATE_LOCK = 0x66657272794A4CL;
    /** Recorded in {@code meta} once every table exists; a gateway finding it does no DDL at all. */
    static final String VERSION = "1";

    private static final String[] STATEMENTS = {
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS messages (
          seq BIGSERIAL PRIMARY KEY,
          channel TEXT NOT NULL, account TEXT NOT NULL, conversation TEXT NOT NULL, sender TEXT NOT NULL,
          message_id TEXT NOT NULL, text TEXT NOT NULL, thread_id TEXT, reply_to_id TEXT, media TEXT,
          received_at BIGINT NOT NULL, state INTEGER NOT NULL DEFAULT %d, reason TEXT, turn_id BIGINT,
          settled_at BIGINT, session_key TEXT NOT NULL, appended_by TEXT)""".formatted(PENDING),
        "CREATE UNIQUE INDEX IF NOT EXISTS messages_dedupe ON messages(channel, account, conversation, message_id)",
        "CREATE INDEX IF NOT EXISTS messages_pending ON messages(session_key) WHERE state = " + PENDING,
        """
        CREATE TABLE IF NOT EXISTS turns (
          id BIGSERIAL PRIMARY KEY, session_key TEXT NOT NULL, prompt TEXT NOT NULL,
          state INTEGER NOT NULL DEFAULT %d, created_at BIGINT NOT NULL, lease_epoch BIGINT)""".formatted(OPEN),
        "CREATE INDEX IF NOT EXISTS turns_open ON turns(session_key) WHERE state = " + OPEN,
        """
        CREATE TABLE IF NOT EXISTS outbox (
          reply_id TEXT PRIMARY KEY, seq BIGSERIAL, turn_id BIGINT NOT NULL, session_key TEXT NOT NULL,
          channel TEXT NOT NULL, account TEXT NOT NULL, conversation TEXT NOT NULL, recipient TEXT, thread_id TEXT,
          text TEXT NOT NULL, in_reply_to TEXT NOT NULL, created_at BIGINT NOT NULL, delivered_at BIGINT,
          failed_at BIGINT, failure TEXT, claimed_by TEXT, claim_expires TIMESTAMPTZ)""",
        "CREATE INDEX IF NOT EXISTS outbox_undelivered ON outbox(created_at, seq) WHERE delivered_at IS NULL AND failed_at IS NULL",
        "CREATE INDEX IF NOT EXISTS outbox_failed ON outbox(failed_at) WHERE failed_at IS NOT NULL",
        """
        CREATE TABLE IF NOT EXISTS transcript (
          id BIGSERIAL PRIMARY KEY, session_key TEXT NOT NULL, turn_id BIGINT NOT NULL,
          prompt TEXT NOT NULL, reply TEXT NOT NULL, completed_at BIGINT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS transcript_session ON transcript(session_key, id)",
        "CREATE TABLE IF NOT EXISTS sessions (session_key TEXT PRIMARY KEY, queue_directive TEXT, updated_at BIGINT)",
        """
        CREATE TABLE IF NOT EXISTS cursors (
          channel TEXT NOT NULL, account TEXT NOT NULL, position TEXT NOT NULL, updated_at BIGINT NOT NULL,
          PRIMARY KEY (channel, account))""",
        """
        CREATE TABLE IF NOT EXISTS session_leases (
          session_key TEXT PRIMARY KEY, owner TEXT NOT NULL, epoch BIGINT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS session_leases_owner ON session_leases(owner)",
        """
        CREATE TABLE IF NOT EXISTS instances (
          id TEXT PRIMARY KEY, host TEXT NOT NULL, pid BIGINT NOT NULL, started_at TIMESTAMPTZ NOT NULL,
          heartbeat_at TIMESTAMPTZ NOT NULL)""",
        """
        CREATE TABLE IF NOT EXISTS leaders (
          role TEXT PRIMARY KEY, owner TEXT NOT NULL, epoch BIGINT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)""",
    };

    private PostgresSchema() {}

    /**
     * Creates what is missing, in one transaction under an advisory lock; {@code connection} is left in
     * auto-commit. A schema already at {@link #VERSION} is left untouched without any DDL: even
     * {@code CREATE INDEX IF NOT EXISTS} takes a share lock on its table before it looks, and a gateway
     * joining peers that are already writing would deadlock against their inserts.
     */
    static void create(Connection connection) throws SQLException {
        if (VERSION.equals(version(connection))) {
            return;
        }
        try (Statement statement = connection.createStatement()) {
            // Held by the session, and the transaction begun only once it is: a transaction begun before
            // would look the tables up through catalog caches from before a peer created them, find none,
            // and create them again.
            statement.execute("SELECT pg_advisory_lock(" + CREATE_LOCK + ")");
            try {
                createUnderLock(connection, statement);
            } finally {
                statement.execute("SELECT pg_advisory_unlock(" + CREATE_LOCK + ")");
            }
        }
    }

    private static void createUnderLock(Connection connection, Statement statement) throws SQLException {
        connection.setAutoCommit(false);
        try {
            String found = version(connection);
            if (found != null && !VERSION.equals(found)) {
                throw new SQLException("the shared journal's schema is version " + found + ", this gateway knows "
                        + VERSION + " only");
            }
            if (found == null) {
                for (String sql : STATEMENTS) {
                    statement.execute(sql);
                }
                statement.execute("INSERT INTO meta (key, value) VALUES ('schema', '" + VERSION + "')");
            }
            connection.commit();
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    /** The version recorded in {@code meta}, or null when there is no schema yet (in the connection's search path). */
    private static String version(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet exists = statement.executeQuery("SELECT to_regclass('meta') IS NOT NULL")) {
            exists.next();
            if (!exists.getBoolean(1)) {
                return null;
            }
        }
        try (Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("SELECT value FROM meta WHERE key = 'schema'")) {
            return row.next() ? row.getString(1) : null;
        }
    }
}
