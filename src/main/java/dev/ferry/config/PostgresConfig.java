package dev.ferry.config;

/**
 * The shared journal's database, used when {@code journal.engine} is {@code "postgres"}. The password is
 * never in the file: {@code passwordEnv} names the environment variable that holds it, read once at start.
 * {@code leaseTtlMs} is how long a session, a reply or the Telegram poller stays with an instance that
 * stopped renewing it; {@code notify: false} leaves out LISTEN/NOTIFY (behind a transaction-pooling proxy),
 * and peers then find work by polling alone, about once a second.
 */
public record PostgresConfig(String url, String user, String passwordEnv, long leaseTtlMs, boolean listenNotify) {

    public static final PostgresConfig DEFAULTS =
            new PostgresConfig("jdbc:postgresql://127.0.0.1:5432/ferry", "ferry", "FERRY_PG_PASSWORD", 10_000, true);
}
