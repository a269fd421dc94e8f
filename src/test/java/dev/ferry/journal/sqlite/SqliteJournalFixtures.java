package dev.ferry.journal.sqlite;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Raw file access for the SQLite journal's tests. The raw reads go around the journal on a
 * connection of their own, so they show what is in the file itself: what a crash right now would leave.
 */
final class SqliteJournalFixtures {

    private SqliteJournalFixtures() {}

    static String session(String conversation) {
        return "agent:main:webhook:default:" + conversation;
    }

    /** A connection straight to the journal file, for reading what is committed. The caller closes it. */
    static Connection rawConnection(Path file) throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    }

    /** The columns of each row {@code sql} selects from the file, read on a connection of its own; integers as Long. */
    static List<List<Object>> rows(Path file, String sql, Object... args) throws SQLException {
        try (Connection connection = rawConnection(file)) {
            return rows(connection, sql, args);
        }
    }

    static List<List<Object>> rows(Connection connection, String sql, Object... args) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                statement.setObject(i + 1, args[i]);
            }
            List<List<Object>> rows = new ArrayList<>();
            try (ResultSet result = statement.executeQuery()) {
                int columns = result.getMetaData().getColumnCount();
                while (result.next()) {
                    List<Object> row = new ArrayList<>();
                    for (int c = 1; c <= columns; c++) {
                        Object value = result.getObject(c);
                        // The driver hands back small integers as Integer and large ones as Long; tests compare longs.
                        row.add(value instanceof Integer small ? Long.valueOf(small) : value);
                    }
                    rows.add(row);
                }
            }
            return rows;
        }
    }

    /** Overwrites {@code bytes} at {@code offset}, as a failing disk or a stray write would. */
    static void overwrite(Path file, long offset, byte[] bytes) throws IOException {
        try (RandomAccessFile raw = new RandomAccessFile(file.toFile(), "rw")) {
            raw.seek(offset);
            raw.write(bytes);
        }
    }
}
