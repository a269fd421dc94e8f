package dev.ferry.journal.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ferry.testing.PostgresCluster;

/**
 * The database behaviours the shared journal stands on, proven against a real throwaway cluster before
 * anything is built on them: dedupe by a unique index, claims that skip what another instance holds,
 * and the epoch guard that refuses a stale owner's commit.
 */
class PostgresPrimitivesIT {
    private static PostgresCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        PostgresCluster.requireInstalled();
        cluster = PostgresCluster.start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void freshTables() throws SQLException {
        try (Connection connection = cluster.connect(); Statement statement = connection.createStatement()) {
            statement.execute("DROP TABLE IF EXISTS messages, leases");
            statement.execute("CREATE TABLE messages (seq BIGSERIAL PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, text TEXT)");
            statement.execute("CREATE TABLE leases (session_key TEXT PRIMARY KEY, owner TEXT, epoch BIGINT NOT NULL)");
        }
    }

    @Test
    void theClusterKeepsFsyncOn() throws SQLException {
        try (Connection connection = cluster.connect(); Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery("SHOW fsync")) {
            assertThat(row.next()).isTrue();
            assertThat(row.getString(1)).isEqualTo("on");
        }
    }

    @Test
    void aSecondInsertOfTheSameKeyWithOnConflictDoNothingChangesNoRow() throws SQLException {
        try (Connection first = cluster.connect(); Connection second = cluster.connect()) {
            String insert = "INSERT INTO messages (dedupe_key, text) VALUES (?, ?) ON CONFLICT (dedupe_key) DO NOTHING";
            assertThat(update(first, insert, "webhook:c1:m1", "first")).isEqualTo(1);
            assertThat(update(second, insert, "webhook:c1:m1", "again")).isZero();
            try (Statement statement = first.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT text FROM messages")) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getString(1)).isEqualTo("first");
                assertThat(rows.next()).as("one row for the key").isFalse();
            }
        }
    }

    @Test
    void aClaimWithSkipLockedPassesOverTheRowAnotherTransactionHolds() throws SQLException {
        try (Connection setup = cluster.connect(); Statement statement = setup.createStatement()) {
            statement.execute("INSERT INTO leases VALUES ('s1', NULL, 0), ('s2', NULL, 0)");
        }
        String claim = "SELECT session_key FROM leases ORDER BY session_key LIMIT 1 FOR UPDATE SKIP LOCKED";
        try (Connection a = cluster.connect(); Connection b = cluster.connect()) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            assertThat(single(a, claim)).isEqualTo("s1");
            assertThat(single(b, claim)).as("s1 is held by the other claimer").isEqualTo("s2");
            a.rollback();
            b.rollback();
        }
    }

    @Test
    void anUpdateGuardedByAStaleEpochTouchesNoRowOnceAnotherOwnerHasClaimed() throws SQLException {
        try (Connection connection = cluster.connect(); Statement statement = connection.createStatement()) {
            statement.execute("INSERT INTO leases VALUES ('s1', 'gateway-a', 1)");
            String takeOver = "UPDATE leases SET owner = ?, epoch = epoch + 1 WHERE session_key = 's1'";
            assertThat(update(connection, takeOver, "gateway-b")).isEqualTo(1);
            String guardedCommit = "UPDATE leases SET owner = ? WHERE session_key = 's1' AND epoch = ?";
            try (PreparedStatement stale = connection.prepareStatement(guardedCommit)) {
                stale.setString(1, "gateway-a");
                stale.setLong(2, 1);
                assertThat(stale.executeUpdate()).as("the woken owner's epoch 1 is gone").isZero();
            }
            assertThat(single(connection, "SELECT owner || ':' || epoch FROM leases")).isEqualTo("gateway-b:2");
        }
    }

    private static int update(Connection connection, String sql, String... values) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                statement.setString(i + 1, values[i]);
            }
            return statement.executeUpdate();
        }
    }

    private static String single(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet row = statement.executeQuery(sql)) {
            assertThat(row.next()).as("a row from " + sql).isTrue();
            return row.getString(1);
        }
    }
}
