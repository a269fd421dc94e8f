package dev.ferry.journal.postgres;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import dev.ferry.config.PostgresConfig;
import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalContract;
import dev.ferry.config.SessionScope;
import dev.ferry.session.SessionKeys;
import dev.ferry.testing.PostgresCluster;
import dev.ferry.time.WallClock;

/**
 * {@link JournalContract} against {@link PostgresJournal} on a real throwaway cluster: each journal a
 * schema of its own in one database, reopened as the next start of its gateway would (a new gateway
 * instance on the same tables).
 */
class PostgresJournalContractIT extends JournalContract {
    private static final AtomicInteger SCHEMAS = new AtomicInteger();
    private static PostgresCluster cluster;

    private final Map<Journal, PostgresConfig> configs = new IdentityHashMap<>();

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

    @Override
    protected Journal newJournal(WallClock clock) {
        String schema = "contract_" + SCHEMAS.incrementAndGet();
        try (Connection connection = cluster.connect(); Statement statement = connection.createStatement()) {
            statement.execute("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return open(new PostgresConfig(cluster.jdbcUrl() + "?currentSchema=" + schema, PostgresCluster.USER,
                "FERRY_PG_PASSWORD", 10_000, true));
    }

    @Override
    protected Journal reopened(Journal journal) {
        journal.close();
        return open(configs.get(journal));
    }

    private Journal open(PostgresConfig config) {
        PostgresJournal journal = PostgresJournal.open(config, "", message -> SessionKeys.of(SessionScope.CONVERSATION, message), clock);
        configs.put(journal, config);
        return journal;
    }

    /** Holds the writer, so what {@code submit} writes queues up behind it and commits once it is let go. */
    @Override
    protected <T> T whileNoWriteCanComplete(Journal journal, Supplier<T> submit) {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Void> holding = ((PostgresJournal) journal).onWriter(writer -> {
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertThat(held.await(5, SECONDS)).isTrue();
            return submit.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            release.countDown();
            holding.orTimeout(5, SECONDS).join();
        }
    }
}
