package dev.ferry.journal.postgres;

import static dev.ferry.journal.TestMessages.inbound;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ferry.config.PostgresConfig;
import dev.ferry.config.SessionScope;
import dev.ferry.journal.AppendResult;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.LeaseLostException;
import dev.ferry.journal.ManualWallClock;
import dev.ferry.journal.Reply;
import dev.ferry.journal.Takeover;
import dev.ferry.journal.Turn;
import dev.ferry.session.SessionKeys;
import dev.ferry.testing.PostgresCluster;

/**
 * Two gateways on one PostgreSQL journal, in one process: who runs a session, what a peer hands over,
 * and the fencing that keeps a stalled gateway's late commit out. Leases live {@value #TTL_MS} ms by the
 * database's clock, so a case that lets one run out waits for that, never for a fixed sleep.
 */
class SharedJournalIT {
    private static final long TTL_MS = 1_000;
    private static final String SESSION = "agent:main:webhook:default:c1";
    private static final AtomicInteger SCHEMAS = new AtomicInteger();
    private static PostgresCluster cluster;

    private final ManualWallClock clock = new ManualWallClock(1_800_000_000_000L);
    /** Added to by the threads of a test that opens journals at once. */
    private final List<PostgresJournal> opened = new CopyOnWriteArrayList<>();
    private String url;

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
    void freshSchema() throws SQLException {
        String schema = "shared_" + SCHEMAS.incrementAndGet();
        execute("CREATE SCHEMA " + schema);
        url = cluster.jdbcUrl() + "?currentSchema=" + schema;
    }

    @AfterEach
    void closeEveryJournal() {
        opened.forEach(PostgresJournal::close);
    }

    @Test
    void copiesOfOneMessageAppendedByTwoGatewaysAtOnceAreJournaledOnce() {
        PostgresJournal a = open();
        PostgresJournal b = open();
        List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            appends.add(a.append(inbound("c" + i, "alice", "m" + i, "hello")));
            appends.add(b.append(inbound("c" + i, "alice", "m" + i, "hello")));
        }
        List<AppendResult> results = appends.stream().map(CompletableFuture::join).toList();

        assertThat(results).filteredOn(AppendResult::duplicate).hasSize(50);
        assertThat(results.stream().map(AppendResult::seq).distinct()).hasSize(50);
        assertThat(a.stats().received()).isEqualTo(50);
        assertThat(a.stats().duplicates()).isEqualTo(50);
    }

    @Test
    void gatewaysStartingTogetherOnAnEmptyDatabaseCreateItsTablesOnceAndAllOpen() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService starting = Executors.newFixedThreadPool(6);
        try {
            List<CompletableFuture<PostgresJournal>> opening = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                opening.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return open();
                }, starting));
            }
            go.countDown();
            for (CompletableFuture<PostgresJournal> journal : opening) {
                assertThat(journal.get(30, SECONDS).stats().received()).isZero();
            }
        } finally {
            starting.shutdown();
        }
    }

    @Test
    void aGatewayJoiningPeersMidWriteOpensWithoutTouchingTheirTables() throws Exception {
        journaled(open(), inbound("c1", "alice", "m1", "one"));
        // A peer's write in flight holds a row lock on messages; a second gateway's start-up must not wait
        // for it (nor deadlock with it), so it does no DDL at all on a schema that is already there.
        try (Connection peer = cluster.connect()) {
            peer.setAutoCommit(false);
            try (Statement statement = peer.createStatement()) {
                statement.execute("SET search_path TO " + url.substring(url.indexOf("currentSchema=") + 14));
                statement.execute("UPDATE messages SET settled_at = settled_at");
                CompletableFuture<PostgresJournal> joining = CompletableFuture.supplyAsync(this::open);
                assertThat(joining.get(10, SECONDS).stats().received()).isOne();
            } finally {
                peer.rollback();
            }
        }
    }

    @Test
    void theGatewayHoldingASessionRunsItAndIsHandedWhatAPeerAppendedForIt() {
        PostgresJournal a = open();
        PostgresJournal b = open();
        Handed handedToA = new Handed();
        a.resume(handedToA);

        InboundMessage first = journaled(a, inbound("c1", "alice", "m1", "one"));
        InboundMessage second = journaled(b, inbound("c1", "alice", "m2", "two"));

        assertThat(a.runsHere(first)).as("the first append claims the session").isTrue();
        assertThat(b.runsHere(second)).as("a peer leaves the session to its holder").isFalse();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(handedToA.pending).extracting(InboundMessage::seq).containsExactly(second.seq()));
        assertThat(a.cluster().orElseThrow().sessionsHeld()).isOne();
        assertThatThrownBy(() -> b.startTurn(SESSION, List.of(second), "two").join())
                .as("a peer cannot start a turn in a session another gateway holds")
                .hasCauseInstanceOf(LeaseLostException.class);
    }

    @Test
    void withNotifyOffAsBehindATransactionPoolerAPeersMessageReachesTheHolderByPollingAlone() throws SQLException {
        // What a transaction-pooling proxy allows: no LISTEN, no server-side prepared statements.
        PostgresConfig pooled = new PostgresConfig(url + "&prepareThreshold=0", PostgresCluster.USER,
                "FERRY_PG_PASSWORD", TTL_MS, false);
        PostgresJournal a = opened(PostgresJournal.open(pooled, "", SharedJournalIT::sessionKey, clock));
        PostgresJournal b = opened(PostgresJournal.open(pooled, "", SharedJournalIT::sessionKey, clock));
        Handed handedToA = new Handed();
        a.resume(handedToA);
        try (Connection listener = cluster.connect(); Statement statement = listener.createStatement()) {
            statement.execute("LISTEN " + PostgresWrites.CHANNEL);

            journaled(a, inbound("c1", "alice", "m1", "one"));
            InboundMessage second = journaled(b, inbound("c1", "alice", "m2", "two"));

            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(handedToA.pending).extracting(InboundMessage::seq).containsExactly(second.seq()));
            statement.execute("SELECT 1");
            assertThat(listener.unwrap(org.postgresql.PGConnection.class).getNotifications())
                    .as("NOTIFYs sent with notify off").isNullOrEmpty();
        }
    }

    @Test
    void aStalledGatewaysLateCommitIsRefusedOnceAPeerTookTheSessionOverAtTheNextEpoch() throws Exception {
        PostgresJournal stalled = open();
        PostgresJournal peer = open();
        Turn turn = stalled.startTurn(SESSION, List.of(journaled(stalled, inbound("c1", "alice", "m1", "one"))), "one").join();
        // The stalled gateway never polls, so it renews nothing: its lease runs out by the database's clock.
        Handed handedToPeer = new Handed();
        peer.resume(handedToPeer);

        await().atMost(Duration.ofSeconds(5)).until(() -> !handedToPeer.turns.isEmpty());
        assertThat(handedToPeer.turns).singleElement().isEqualTo(turn);
        assertThat(leaseEpoch(SESSION)).as("taken over at epoch + 1").isEqualTo(2);
        Reply answered = peer.completeTurn(handedToPeer.turns.get(0), "the peer's answer").join();

        assertThatThrownBy(() -> stalled.completeTurn(turn, "the late answer").join())
                .hasCauseInstanceOf(LeaseLostException.class).hasMessageContaining("late commit");
        assertThat(stalled.cluster().orElseThrow().lateCommitsRefused()).isOne();
        assertThat(stalled.cluster().orElseThrow().leasesLost()).isOne();
        assertThat(peer.undeliveredReplies()).containsExactly(answered);
        assertThat(peer.transcript(SESSION, 10)).singleElement().satisfies(exchange ->
                assertThat(exchange.reply()).isEqualTo("the peer's answer"));
    }

    @Test
    void aGatewayThatCannotRenewInTimeRefusesItsOwnCommitsByItsMonotonicClock() throws Exception {
        AtomicLong nanos = new AtomicLong();
        PostgresJournal journal = PostgresJournal.open(config(10_000), "", SharedJournalIT::sessionKey, clock, nanos::get);
        opened.add(journal);
        Turn turn = journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "alice", "m1", "one"))), "one").join();
        journal.resume(new Handed());
        await().atMost(Duration.ofSeconds(5)).until(() -> journal.cluster().orElseThrow().peers() != null
                && heartbeats() == 1);
        try (Connection blocker = cluster.connect(); Statement statement = blocker.createStatement()) {
            // The poller's next renewal now waits on this lock, as on an unreachable database.
            blocker.setAutoCommit(false);
            statement.execute("SET search_path TO " + url.substring(url.indexOf('=') + 1));
            statement.execute("LOCK TABLE session_leases IN ACCESS EXCLUSIVE MODE");
            nanos.addAndGet(Duration.ofMillis(10_001).toNanos());

            assertThatThrownBy(() -> journal.completeTurn(turn, "too late").orTimeout(5, SECONDS).join())
                    .hasCauseInstanceOf(LeaseLostException.class);
            blocker.rollback();
        }
        assertThat(journal.cluster().orElseThrow().lateCommitsRefused()).isOne();
        assertThat(journal.stats().pending()).as("the message waits for whoever takes the session").isOne();
    }

    @Test
    void aReplyWhoseSenderStoppedRenewingItsClaimIsHandedToAPeerWithItsReplyId() {
        PostgresJournal crashed = open();
        PostgresJournal peer = open();
        Turn turn = crashed.startTurn(SESSION, List.of(journaled(crashed, inbound("c1", "alice", "m1", "one"))), "one").join();
        Reply reply = crashed.completeTurn(turn, "answer").join();
        Handed handedToPeer = new Handed();
        peer.resume(handedToPeer);

        await().atMost(Duration.ofSeconds(5)).until(() -> !handedToPeer.replies.isEmpty());
        assertThat(handedToPeer.replies).containsExactly(reply);
    }

    @Test
    void aGatewayStoppingGracefullyHandsItsSessionsToAPeerAtOnce() {
        PostgresJournal stopping = PostgresJournal.open(config(60_000), "", SharedJournalIT::sessionKey, clock);
        PostgresJournal peer = open();
        InboundMessage pending = journaled(stopping, inbound("c1", "alice", "m1", "one"));
        Handed handedToPeer = new Handed();
        peer.resume(handedToPeer);

        stopping.close();

        // Well inside the stopped gateway's 60 s lease: closing expired it.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(handedToPeer.pending).extracting(InboundMessage::seq).containsExactly(pending.seq()));
    }

    @Test
    void noPeerIsHandedASessionWhoseHolderStillRenewsIt() throws Exception {
        PostgresJournal holder = open();
        PostgresJournal peer = open();
        holder.resume(new Handed());
        Handed handedToPeer = new Handed();
        peer.resume(handedToPeer);
        journaled(holder, inbound("c1", "alice", "m1", "one"));

        // Three lease lifetimes: the holder renews throughout, so nothing moves.
        long until = System.nanoTime() + Duration.ofMillis(3 * TTL_MS).toNanos();
        await().atMost(Duration.ofSeconds(10)).until(() -> System.nanoTime() > until);
        assertThat(handedToPeer.pending).isEmpty();
        assertThat(leaseEpoch(SESSION)).isOne();
        assertThat(holder.cluster().orElseThrow().peers()).extracting(peerView -> peerView.instanceId())
                .containsExactly(peer.instanceId());
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /** What a journal handed its gateway, as the gateway's takeover would queue it. */
    private static final class Handed implements Takeover {
        final List<Reply> replies = new CopyOnWriteArrayList<>();
        final List<Turn> turns = new CopyOnWriteArrayList<>();
        final List<InboundMessage> pending = new CopyOnWriteArrayList<>();

        @Override
        public void take(List<Reply> undelivered, List<Turn> openTurns, List<InboundMessage> messages) {
            replies.addAll(undelivered);
            turns.addAll(openTurns);
            pending.addAll(messages);
        }
    }

    private PostgresJournal open() {
        return opened(PostgresJournal.open(config(TTL_MS), "", SharedJournalIT::sessionKey, clock));
    }

    private PostgresJournal opened(PostgresJournal journal) {
        opened.add(journal);
        return journal;
    }

    private PostgresConfig config(long ttlMs) {
        return new PostgresConfig(url, PostgresCluster.USER, "FERRY_PG_PASSWORD", ttlMs, true);
    }

    private static String sessionKey(InboundMessage message) {
        return SessionKeys.of(SessionScope.CONVERSATION, message);
    }

    private static InboundMessage journaled(PostgresJournal journal, InboundMessage message) {
        return message.withSeq(journal.append(message).join().seq());
    }

    private long leaseEpoch(String sessionKey) throws SQLException {
        return queryLong("SELECT epoch FROM session_leases WHERE session_key = '" + sessionKey + "'");
    }

    private long heartbeats() throws SQLException {
        return queryLong("SELECT COUNT(*) FROM instances");
    }

    private long queryLong(String sql) throws SQLException {
        try (Connection connection = cluster.connect(); Statement statement = connection.createStatement()) {
            statement.execute("SET search_path TO " + url.substring(url.indexOf('=') + 1));
            try (ResultSet row = statement.executeQuery(sql)) {
                row.next();
                return row.getLong(1);
            }
        }
    }

    private static void execute(String sql) throws SQLException {
        try (Connection connection = cluster.connect(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}
