package dev.ferry.journal.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Opens connections to the shared journal's database. The password is held here and handed to the
 * driver only; {@link #toString()} and every message name the URL and user alone.
 */
final class Connector {
    private final String url;
    private final String user;
    private final String password;
    private final long idleInTransactionMs;

    /**
     * {@code idleInTransactionMs}: how long the server lets one of these connections sit in an open
     * transaction doing nothing before it ends the session. A gateway frozen mid-batch (SIGSTOP, a long
     * pause) would otherwise hold its row locks for as long as it is frozen, and every peer's claim of its
     * sessions would wait behind them; this way the locks go well within a lease.
     */
    Connector(String url, String user, String password, long idleInTransactionMs) {
        this.url = url;
        this.user = user;
        this.password = password;
        this.idleInTransactionMs = idleInTransactionMs;
    }

    Connection open() throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        if (password != null && !password.isEmpty()) {
            properties.setProperty("password", password);
        }
        properties.setProperty("ApplicationName", "ferry");
        properties.setProperty("connectTimeout", "10");
        // A statement that hangs on a dead server must fail the write, not hold the writer for ever.
        properties.setProperty("socketTimeout", "60");
        properties.setProperty("tcpKeepAlive", "true");
        properties.setProperty("options", "-c idle_in_transaction_session_timeout=" + idleInTransactionMs);
        return DriverManager.getConnection(url, properties);
    }

    /** How the journal is named in logs and errors: never with the password. */
    @Override
    public String toString() {
        return url.replaceFirst("\\?.*$", "") + " as " + user;
    }
}
