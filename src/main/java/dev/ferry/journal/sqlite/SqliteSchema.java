package dev.ferry.journal.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import dev.ferry.journal.MessageState;
import dev.ferry.journal.TurnState;
import dev.ferry.time.WallClock;

/**
 * The journal's tables. A message's {@code state} is the code of its {@link MessageState}, a turn's that of
 * its {@link TurnState}.
 * Messages carry no unique index on their dedupe identity: {@link DedupeIndex} holds it in memory, and
 * {@code dedupe_key} keeps each row's key so that opening reads two numbers a row, not four strings.
 * Rows written without a key get theirs the first time a journal opens after (see {@link #keyUnkeyedRows}).
 * An outbox row is undelivered, delivered ({@code delivered_at}) or failed ({@code failed_at}, with {@code failure}
 * saying why); the failure columns are added to an outbox from before them.
 */
final class SqliteSchema {

    /** In the SQL text itself, not bound: SQLite uses a partial index only for a query whose WHERE names its value. */
    static final int PENDING = MessageState.PENDING.code();
    static final int OPEN = TurnState.OPEN.code();

    private static final String[] STATEMENTS = {
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS messages (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          channel TEXT NOT NULL, account TEXT NOT NULL, conversation TEXT NOT NULL, sender TEXT NOT NULL,
          message_id TEXT NOT NULL, text TEXT NOT NULL, thread_id TEXT, reply_to_id TEXT, media TEXT,
          received_at INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT %d, reason TEXT, turn_id INTEGER,
          settled_at INTEGER, dedupe_key INTEGER)""".formatted(PENDING),
        "CREATE INDEX IF NOT EXISTS messages_pending ON messages(state) WHERE state = " + PENDING,
        // No index on turn_id: nothing looks messages up by turn, and keeping one cost each claim a second
        // page write. Journals from before drop it.
        "DROP INDEX IF EXISTS messages_turn",
        """
        CREATE TABLE IF NOT EXISTS turns (
          id INTEGER PRIMARY KEY AUTOINCREMENT, session_key TEXT NOT NULL,
          prompt TEXT NOT NULL, state INTEGER NOT NULL DEFAULT %d, created_at INTEGER NOT NULL)""".formatted(OPEN),
        "CREATE INDEX IF NOT EXISTS turns_open ON turns(state) WHERE state = " + OPEN,
        """
        CREATE TABLE IF NOT EXISTS outbox (
          reply_id TEXT PRIMARY KEY, turn_id INTEGER NOT NULL, session_key TEXT NOT NULL, channel TEXT NOT NULL,
          account TEXT NOT NULL, conversation TEXT NOT NULL, recipient TEXT, thread_id TEXT, text TEXT NOT NULL,
          in_reply_to TEXT NOT NULL, created_at INTEGER NOT NULL, delivered_at INTEGER, failed_at INTEGER, failure TEXT)""",
        "CREATE INDEX IF NOT EXISTS outbox_undelivered ON outbox(created_at) WHERE delivered_at IS NULL",
        """
        CREATE TABLE IF NOT EXISTS transcript (
          id INTEGER PRIMARY KEY AUTOINCREMENT, session_key TEXT NOT NULL, turn_id INTEGER NOT NULL,
          prompt TEXT NOT NULL, reply TEXT NOT NULL, completed_at INTEGER NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS transcript_session ON transcript(session_key, id)",
        // updated_at: when the /queue settings were saved, so that pruning keeps those of a session still in use.
        "CREATE TABLE IF NOT EXISTS sessions (session_key TEXT PRIMARY KEY, queue_directive TEXT, updated_at INTEGER)",
        // A polling channel's position on its platform (a Telegram offset), written with the messages it follows.
        """
        CREATE TABLE IF NOT EXISTS cursors (
          channel TEXT NOT NULL, account TEXT NOT NULL, position TEXT NOT NULL, updated_at INTEGER NOT NULL,
          PRIMARY KEY (channel, account))""",
    };

    private SqliteSchema() {}

    /** Creates what is missing; {@code clock} dates the {@code /queue} settings of a journal from before their save time. */
    static void create(Connection connection, WallClock clock) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            for (String sql : STATEMENTS) {
                statement.execute(sql);
            }
            if (!hasColumn(statement, "messages", "dedupe_key")) {
                statement.execute("ALTER TABLE messages ADD COLUMN dedupe_key INTEGER");
            }
            if (!hasColumn(statement, "sessions", "updated_at")) {
                // Settings saved before the column existed count as saved now: they get a whole retention period.
                statement.execute("ALTER TABLE sessions ADD COLUMN updated_at INTEGER");
                try (PreparedStatement update = connection.prepareStatement("UPDATE sessions SET updated_at = ?")) {
                    update.setLong(1, clock.epochMillis());
                    update.executeUpdate();
                }
            }
            if (!hasColumn(statement, "outbox", "failed_at")) {
                statement.execute("ALTER TABLE outbox ADD COLUMN failed_at INTEGER");
                statement.execute("ALTER TABLE outbox ADD COLUMN failure TEXT");
            }
            statement.execute("CREATE INDEX IF NOT EXISTS outbox_failed ON outbox(failed_at) WHERE failed_at IS NOT NULL");
        }
    }

    /**
     * Stores the key of every row that has none (a journal from before {@code dedupe_key}, or rows a version
     * from before it wrote since), adds them to {@code index}, and commits; returns how many. Opening calls
     * it only when its scan met such a row, so a journal pays for the search once.
     */
    static int keyUnkeyedRows(Connection connection, DedupeIndex index) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        int keyed = 0;
        try (Statement statement = connection.createStatement();
             PreparedStatement update = connection.prepareStatement("UPDATE messages SET dedupe_key = ? WHERE seq = ?")) {
            try (ResultSet rows = statement.executeQuery("SELECT seq, channel, account, conversation, message_id"
                    + " FROM messages WHERE dedupe_key IS NULL")) {
                while (rows.next()) {
                    long key = DedupeIndex.keyOf(rows.getString(2), rows.getString(3), rows.getString(4), rows.getString(5));
                    update.setLong(1, key);
                    update.setLong(2, rows.getLong(1));
                    update.addBatch();
                    index.add(key, rows.getLong(1));
                    keyed++;
                }
            }
            update.executeBatch();
            connection.commit();
            return keyed;
        } catch (SQLException e) {
            try {
                connection.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }

    private static boolean hasColumn(Statement statement, String table, String column) throws SQLException {
        try (ResultSet columns = statement.executeQuery("PRAGMA table_info(" + table + ")")) {
            while (columns.next()) {
                if (column.equals(columns.getString("name"))) {
                    return true;
                }
            }
            return false;
        }
    }
}
