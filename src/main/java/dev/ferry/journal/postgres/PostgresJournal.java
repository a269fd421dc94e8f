package dev.ferry.journal.postgres;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.config.PostgresConfig;
import dev.ferry.config.QueueOverride;
import dev.ferry.journal.AppendResult;
import dev.ferry.journal.ChannelCursor;
import dev.ferry.journal.ClusterView;
import dev.ferry.journal.Exchange;
import dev.ferry.journal.FailedReply;
import dev.ferry.journal.GroupCommitWriter;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalException;
import dev.ferry.journal.JournalHealth;
import dev.ferry.journal.JournalStats;
import dev.ferry.journal.JournalUnavailableException;
import dev.ferry.journal.LeaseLostException;
import dev.ferry.journal.Reply;
import dev.ferry.journal.ReplyIds;
import dev.ferry.journal.SessionInfo;
import dev.ferry.journal.Takeover;
import dev.ferry.journal.Turn;
import dev.ferry.time.WallClock;

/**
 * The journal on one PostgreSQL database, shared by any number of gateways. Each gateway writes through
 * its own {@link GroupCommitWriter} ({@link PostgresWrites} holds the statements), reads on a connection
 * of its own ({@link PostgresReads}), and runs only the sessions it holds a lease on ({@link SessionLeases}):
 * its {@link LeasePoller} takes over what is unowned or expired and hands it to the gateway. Reply ids
 * carry the database's id, not the gateway's, so a turn run again by another gateway answers with the same
 * id. Thread-safe.
 */
public final class PostgresJournal implements Journal {
    private static final Logger log = LoggerFactory.getLogger(PostgresJournal.class);
    /** How often a write that lost a deadlock to a peer's is run again before its failure is answered. */
    private static final int TRANSIENT_RETRIES = 5;

    private final Connector connector;
    private final PostgresTransactions transactions;
    private final PostgresWrites writes;
    private final PostgresReads reads;
    private final SessionLeases leases;
    private final Leadership leadership;
    private final LeasePoller poller;
    private final GroupCommitWriter writer;

    private PostgresJournal(Connector connector, PostgresTransactions transactions, PostgresReads reads,
                            SessionLeases leases, Leadership leadership, LeasePoller poller, PostgresWrites writes) {
        this.connector = connector;
        this.leadership = leadership;
        this.transactions = transactions;
        this.reads = reads;
        this.leases = leases;
        this.poller = poller;
        this.writes = writes;
        this.writer = new GroupCommitWriter(connector.toString(), transactions);
    }

    /**
     * Connects to the database {@code config} names, with {@code password} (from the environment; may be
     * empty), and creates what is missing of the tables. {@code sessionKeys} gives a message's session, as
     * the gateway routes it. Fails with a {@link JournalException} naming the database, never the password.
     */
    public static PostgresJournal open(PostgresConfig config, String password, Function<InboundMessage, String> sessionKeys,
                                       WallClock clock) {
        return open(config, password, sessionKeys, clock, System::nanoTime);
    }

    /** As {@link #open(PostgresConfig, String, Function, WallClock)}, judging its own leases by {@code nanoTime}. */
    static PostgresJournal open(PostgresConfig config, String password, Function<InboundMessage, String> sessionKeys,
                                WallClock clock, LongSupplier nanoTime) {
        Connector connector = new Connector(config.url(), config.user(), password, Math.max(500, config.leaseTtlMs() / 2));
        Connection writer = null;
        Connection reader = null;
        try {
            writer = connector.open();
            PostgresSchema.create(writer);
            String journalId = journalId(writer);
            reader = connector.open();
            String instanceId = UUID.randomUUID().toString().substring(0, 8);
            ReplyIds replyIds = new ReplyIds(journalId);
            SessionLeases leases = new SessionLeases(instanceId, config.leaseTtlMs(), nanoTime);
            PostgresTransactions transactions = new PostgresTransactions(connector, writer);
            PostgresReads reads = new PostgresReads(connector, reader, replyIds);
            Leadership leadership = new Leadership(leases);
            LeasePoller poller = new LeasePoller(connector, leases, leadership, reads, config.listenNotify(), nanoTime,
                    hostName(), ProcessHandle.current().pid());
            PostgresWrites writes = new PostgresWrites(transactions, leases, leadership, replyIds, sessionKeys, clock,
                    config.listenNotify());
            log.info("journal open database={} instance={} journal={} leaseTtlMs={} notify={}", connector, instanceId,
                    journalId, config.leaseTtlMs(), config.listenNotify());
            return new PostgresJournal(connector, transactions, reads, leases, leadership, poller, writes);
        } catch (SQLException e) {
            PostgresTransactions.closeQuietly(writer);
            PostgresTransactions.closeQuietly(reader);
            throw new JournalException("journal " + connector + " cannot be opened: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            PostgresTransactions.closeQuietly(writer);
            PostgresTransactions.closeQuietly(reader);
            throw e;
        }
    }

    /** The database's own id, which every reply id carries: made once, by whichever gateway opens it first. */
    private static String journalId(Connection connection) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO meta(key, value) VALUES ('instance', ?) ON CONFLICT (key) DO NOTHING")) {
            insert.setString(1, ReplyIds.fresh().instanceId());
            insert.executeUpdate();
        }
        try (PreparedStatement select = connection.prepareStatement("SELECT value FROM meta WHERE key = 'instance'");
             ResultSet row = select.executeQuery()) {
            row.next();
            return row.getString(1);
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }

    /** The role of the one gateway that polls a channel's account (a Telegram bot) and moves its cursor. */
    static String pollerRole(String channel, String account) {
        return pollerRolesOf(channel) + account;
    }

    /** What the poller roles of all of a channel's accounts start with. */
    private static String pollerRolesOf(String channel) {
        return "poller:" + channel + ":";
    }

    /** This gateway's id among those sharing the database. */
    public String instanceId() {
        return leases.instanceId;
    }

    /** A step run with the writer's connection, as a write of its own in the next batch: for tests that hold the writer. */
    @FunctionalInterface
    interface WriterStep {
        void run(Connection writer) throws SQLException;
    }

    CompletableFuture<Void> onWriter(WriterStep step) {
        return writer.submit(() -> {
            step.run(transactions.connection());
            return null;
        });
    }

    /**
     * Submits a write; one that lost a deadlock or a serialization check to a peer's write runs again, and a
     * lost connection is answered as unavailability, which callers wait out rather than treat as a refusal.
     */
    private <T> CompletableFuture<T> submit(GroupCommitWriter.Body<T> body) {
        return submit(body, 0);
    }

    private <T> CompletableFuture<T> submit(GroupCommitWriter.Body<T> body, int attempt) {
        return writer.submit(() -> {
            try {
                return body.run();
            } catch (SQLException e) {
                if (isConnectionLost(e)) {
                    throw new JournalUnavailableException("journal " + connector + " cannot be reached ("
                            + e.getMessage() + "); nothing of this write was stored", e);
                }
                throw e;
            }
        }).handle((result, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(result);
            }
            if (attempt < TRANSIENT_RETRIES && isTransient(failure)) {
                return submit(body, attempt + 1);
            }
            return CompletableFuture.<T>failedFuture(failure instanceof CompletionException ? failure.getCause() : failure);
        }).thenCompose(Function.identity());
    }

    /** A write of a turn refused for its lease: counted, since each is a late commit kept out. */
    private <T> CompletableFuture<T> fenced(CompletableFuture<T> write, Turn turn) {
        return write.whenComplete((result, failure) -> LeaseLostException.findIn(failure).ifPresent(lost -> {
            if (!lost.getMessage().contains("held by another gateway")) {
                leases.refusedLateCommit();
                log.warn("late commit refused session={} turn={} instance={}: {}", turn.sessionKey(), turn.id(),
                        leases.instanceId, lost.getMessage());
            }
        }));
    }

    private static boolean isConnectionLost(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("08") || state.startsWith("57P"));
    }

    private static boolean isTransient(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && ("40P01".equals(sql.getSQLState()) || "40001".equals(sql.getSQLState()))) {
                return true;
            }
        }
        return false;
    }

    // ---- writes ---------------------------------------------------------------------------------------------

    @Override
    public CompletableFuture<AppendResult> append(InboundMessage message) {
        return submit(() -> writes.append(message));
    }

    @Override
    public CompletableFuture<List<AppendResult>> appendAll(List<InboundMessage> messages, ChannelCursor cursor) {
        List<InboundMessage> copy = List.copyOf(messages);
        return submit(() -> writes.appendAll(copy, cursor));
    }

    @Override
    public Optional<String> cursor(String channel, String account) {
        return reads.cursor(channel, account);
    }

    @Override
    public CompletableFuture<Turn> startTurn(String sessionKey, List<InboundMessage> messages, String prompt) {
        return submit(() -> writes.startTurn(sessionKey, messages, prompt));
    }

    @Override
    public CompletableFuture<Turn> joinTurn(Turn turn, InboundMessage message) {
        return fenced(submit(() -> writes.joinTurn(turn, message)), turn);
    }

    @Override
    public CompletableFuture<Reply> completeTurn(Turn turn, String replyText) {
        return fenced(submit(() -> writes.completeTurn(turn, replyText)), turn);
    }

    @Override
    public CompletableFuture<Reply> failTurn(Turn turn, String replyText, String reason) {
        return fenced(submit(() -> writes.failTurn(turn, replyText, reason)), turn);
    }

    @Override
    public CompletableFuture<Void> supersedeTurn(Turn turn, String reason) {
        return fenced(submit(() -> writes.supersedeTurn(turn, reason)), turn);
    }

    @Override
    public CompletableFuture<Void> dropMessages(List<InboundMessage> messages, String reason) {
        return submit(() -> writes.dropMessages(messages, reason));
    }

    @Override
    public CompletableFuture<Reply> completeWithoutTurn(String sessionKey, InboundMessage message, String replyText) {
        return submit(() -> writes.completeWithoutTurn(sessionKey, message, replyText));
    }

    @Override
    public CompletableFuture<Reply> recordNotice(String sessionKey, InboundMessage about, String text) {
        return submit(() -> writes.recordNotice(sessionKey, about, text));
    }

    @Override
    public CompletableFuture<Void> resetSession(String sessionKey) {
        return submit(() -> writes.resetSession(sessionKey));
    }

    @Override
    public CompletableFuture<Void> saveQueueDirective(String sessionKey, QueueOverride directive) {
        return submit(() -> writes.saveQueueDirective(sessionKey, directive));
    }

    @Override
    public CompletableFuture<Void> markDelivered(String replyId) {
        return submit(() -> writes.markDelivered(replyId));
    }

    @Override
    public CompletableFuture<Void> markFailed(String replyId, String reason) {
        return submit(() -> writes.markFailed(replyId, reason));
    }

    @Override
    public CompletableFuture<Optional<Reply>> requeueFailed(String replyId) {
        return submit(() -> writes.requeueFailed(replyId));
    }

    @Override
    public CompletableFuture<Integer> prune(long olderThanEpochMs, int keepExchanges) {
        return submit(() -> writes.prune(olderThanEpochMs, keepExchanges));
    }

    // ---- reads and the shared view ----------------------------------------------------------------------------

    @Override
    public Map<String, QueueOverride> queueDirectives() {
        return reads.queueDirectives();
    }

    @Override
    public List<InboundMessage> pendingMessages() {
        return reads.pendingMessages();
    }

    @Override
    public List<Turn> openTurns() {
        return reads.openTurns();
    }

    @Override
    public List<Reply> undeliveredReplies() {
        return reads.undeliveredReplies();
    }

    @Override
    public List<FailedReply> failedReplies(int limit) {
        return reads.failedReplies(limit);
    }

    @Override
    public List<Exchange> transcript(String sessionKey, int limit) {
        return reads.transcript(sessionKey, limit);
    }

    @Override
    public List<SessionInfo> sessions(int offset, int limit) {
        return reads.sessions(offset, limit);
    }

    @Override
    public long sessionCount() {
        return reads.sessionCount();
    }

    @Override
    public JournalStats stats() {
        return reads.stats();
    }

    @Override
    public JournalHealth health() {
        return writer.health();
    }

    /**
     * Starts this gateway's poller: it takes over only what is unowned or expired, now and from then on.
     * Nothing is replayed wholesale, since the rest belongs to the gateways that hold it.
     */
    @Override
    public void resume(Takeover takeover) {
        poller.start(takeover);
    }

    /** True once this gateway holds the poller role of the account; the first call asks for it. */
    @Override
    public boolean polls(String channel, String account) {
        return leadership.leads(pollerRole(channel, account));
    }

    @Override
    public boolean runsHere(InboundMessage journaled) {
        return leases.routesHere(journaled.seq());
    }

    @Override
    public Optional<ClusterView> cluster() {
        return Optional.of(new ClusterView(leases.instanceId, leases.ttlMs, leases.sessionsHeld(), leases.leasesLost(),
                leases.lateCommitsRefused(), leadership.leadsAny(pollerRolesOf("telegram")), poller.peers()));
    }

    /** Commits what is queued, hands back this gateway's leases and claims, then disconnects. */
    @Override
    public void close() {
        writer.close();
        poller.close();
        reads.close();
        PostgresTransactions.closeQuietly(transactions.connection());
        log.info("journal closed database={} instance={}", connector, leases.instanceId);
    }
}
