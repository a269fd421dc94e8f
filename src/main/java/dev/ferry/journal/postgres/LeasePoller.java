package dev.ferry.journal.postgres;

import static dev.ferry.journal.postgres.PostgresSchema.OPEN;
import static dev.ferry.journal.postgres.PostgresSchema.PENDING;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.journal.ClusterView;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.JournalRows;
import dev.ferry.journal.Reply;
import dev.ferry.journal.Takeover;
import dev.ferry.journal.Turn;

/**
 * The shared journal's own thread, on a connection of its own: about once a second, or at once when a
 * peer's NOTIFY says there is work, it beats this gateway's heartbeat, renews the leases in use every
 * third of their time to live and releases the idle ones, takes over sessions whose lease ran out (or that
 * no one holds) with epoch + 1, picks up what peers appended for sessions held here, claims replies whose
 * sender's claim ran out, and hands all of it to this gateway through {@link Takeover}. NOTIFY is a hint
 * only: with it turned off (behind a transaction-pooling proxy) the same work is found by the poll.
 * Thread-safe: its state is the poller thread's, except what {@link #view} reads.
 */
final class LeasePoller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeasePoller.class);
    /** The polling fallback: how long work can wait when no NOTIFY arrives. */
    static final long POLL_MS = 1_000;
    private static final int BATCH = 500;

    private final Connector connector;
    private final SessionLeases leases;
    private final Leadership leadership;
    private final PostgresReads reads;
    private final boolean listen;
    private final LongSupplier nanoTime;
    private final String host;
    private final long pid;
    private final Semaphore wake = new Semaphore(0);
    private final Thread thread;
    private volatile Takeover takeover;
    private volatile boolean closing;
    /** The other live gateways, as the last poll saw them. */
    private volatile List<ClusterView.Peer> peers = List.of();
    /** Poller thread only, like the fields below. */
    private Connection connection;
    private long renewedAtNanos;
    private boolean renewedOnce;
    private String lastProblem;

    LeasePoller(Connector connector, SessionLeases leases, Leadership leadership, PostgresReads reads, boolean listen,
                LongSupplier nanoTime, String host, long pid) {
        this.connector = connector;
        this.leases = leases;
        this.leadership = leadership;
        this.reads = reads;
        this.listen = listen;
        this.nanoTime = nanoTime;
        this.host = host;
        this.pid = pid;
        this.thread = new Thread(this::loop, "ferry-journal-leases");
        this.thread.setDaemon(true);
    }

    /** Starts polling; from now on {@code takeover} is handed what this gateway takes over. */
    void start(Takeover takeover) {
        this.takeover = takeover;
        thread.start();
    }

    List<ClusterView.Peer> peers() {
        return peers;
    }

    private void loop() {
        boolean notified = false;
        while (!closing) {
            try {
                if (connection == null) {
                    connect();
                }
                if (notified && !renewalDue()) {
                    // A peer appended for a session held here: only that is looked at, at once.
                    pickUpMessages();
                } else {
                    poll();
                }
                if (lastProblem != null) {
                    log.info("journal poller reconnected database={}", connector);
                    lastProblem = null;
                }
                notified = awaitWork();
            } catch (SQLException e) {
                if (closing) {
                    break;
                }
                notified = false;
                if (isTransient(e)) {
                    // Lost a deadlock or a serialization check to a peer's write: the next round tries again.
                    log.debug("journal poller round given up to a peer's write: {}", e.getMessage());
                    continue;
                }
                failed(e);
            } catch (RuntimeException e) {
                if (closing) {
                    break;
                }
                notified = false;
                failed(e);
            }
            if (leases.selfFenced()) {
                leases.fenceAll();
            }
        }
        PostgresTransactions.closeQuietly(connection);
    }

    private static boolean isTransient(SQLException e) {
        return "40P01".equals(e.getSQLState()) || "40001".equals(e.getSQLState());
    }

    private boolean renewalDue() {
        return !renewedOnce || nanoTime.getAsLong() - renewedAtNanos >= leases.ttlMs * 1_000_000 / 3;
    }

    /** Says why once per problem, drops the connection, and waits a poll interval before connecting again. */
    private void failed(Exception e) {
        if (!String.valueOf(e.getMessage()).equals(lastProblem)) {
            log.warn("journal poller failed database={} reason={}; retried every {} ms", connector, e.getMessage(), POLL_MS);
            lastProblem = String.valueOf(e.getMessage());
        }
        PostgresTransactions.closeQuietly(connection);
        connection = null;
        sleepQuietly();
    }

    private void connect() throws SQLException {
        connection = connector.open();
        if (listen) {
            try (Statement statement = connection.createStatement()) {
                statement.execute("LISTEN " + PostgresWrites.CHANNEL);
            }
        }
    }

    /**
     * Waits for a peer's NOTIFY, the poll interval or the next renewal, whichever comes first; true when a
     * NOTIFY came.
     */
    private boolean awaitWork() throws SQLException {
        long renewDueMs = (renewedAtNanos + leases.ttlMs * 1_000_000 / 3 - nanoTime.getAsLong()) / 1_000_000;
        int waitMs = (int) Math.max(1, Math.min(POLL_MS, renewDueMs));
        if (listen) {
            PGNotification[] notifications = connection.unwrap(PGConnection.class).getNotifications(waitMs);
            return notifications != null && notifications.length > 0;
        }
        sleepQuietly(waitMs);
        return false;
    }

    private void sleepQuietly() {
        sleepQuietly(POLL_MS);
    }

    private void sleepQuietly(long ms) {
        try {
            wake.tryAcquire(ms, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closing = true;
        }
    }

    /** One round; every statement commits by itself except a takeover's claim, which is one transaction. */
    void poll() throws SQLException {
        heartbeat();
        long now = nanoTime.getAsLong();
        if (renewalDue()) {
            renew(now);
            renewedAtNanos = now;
            renewedOnce = true;
        }
        leadership.claimAndRenew(connection);
        takeOverExpired();
        pickUp();
        claimReplies();
        peers = livePeers();
    }

    private void heartbeat() throws SQLException {
        try (PreparedStatement beat = connection.prepareStatement("INSERT INTO instances(id, host, pid, started_at,"
                + " heartbeat_at) VALUES (?, ?, ?, now(), now()) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()")) {
            beat.setString(1, leases.instanceId);
            beat.setString(2, host);
            beat.setLong(3, pid);
            beat.executeUpdate();
        }
    }

    /**
     * Renews the leases in use and this gateway's reply claims, and releases the idle leases whose session
     * has nothing pending. {@code askedAt} is taken before the statement, so the monotonic judgement of
     * {@link SessionLeases#selfFenced} errs on the side of giving up.
     */
    private void renew(long askedAt) throws SQLException {
        Map<String, Long> held = leases.held();
        Set<String> inUse = leases.inUse();
        Map<String, Long> asked = new HashMap<>();
        Set<String> idle = new HashSet<>();
        held.forEach((key, epoch) -> {
            if (inUse.contains(key)) {
                asked.put(key, epoch);
            } else {
                idle.add(key);
            }
        });
        Map<String, Long> confirmed = new HashMap<>();
        if (!asked.isEmpty()) {
            try (PreparedStatement renew = connection.prepareStatement("UPDATE session_leases"
                    + " SET expires_at = now() + ? * interval '1 millisecond'"
                    + " WHERE owner = ? AND session_key = ANY(?) AND expires_at > now() RETURNING session_key, epoch")) {
                renew.setLong(1, leases.ttlMs);
                renew.setString(2, leases.instanceId);
                renew.setArray(3, keys(asked.keySet()));
                try (ResultSet rows = renew.executeQuery()) {
                    while (rows.next()) {
                        confirmed.put(rows.getString(1), rows.getLong(2));
                    }
                }
            }
        }
        leases.renewed(asked, confirmed, askedAt);
        if (!idle.isEmpty()) {
            Set<String> released = new HashSet<>();
            try (PreparedStatement release = connection.prepareStatement("UPDATE session_leases l SET expires_at = now()"
                    + " WHERE owner = ? AND session_key = ANY(?) AND NOT EXISTS (SELECT 1 FROM messages m"
                    + " WHERE m.session_key = l.session_key AND m.state = " + PENDING + ") RETURNING session_key")) {
                release.setString(1, leases.instanceId);
                release.setArray(2, keys(idle));
                try (ResultSet rows = release.executeQuery()) {
                    while (rows.next()) {
                        released.add(rows.getString(1));
                    }
                }
            }
            leases.released(released);
        }
        try (PreparedStatement claims = connection.prepareStatement("UPDATE outbox"
                + " SET claim_expires = now() + ? * interval '1 millisecond'"
                + " WHERE claimed_by = ? AND delivered_at IS NULL AND failed_at IS NULL")) {
            claims.setLong(1, leases.ttlMs);
            claims.setString(2, leases.instanceId);
            claims.executeUpdate();
        }
    }

    /**
     * Claims, with epoch + 1, the sessions with pending messages whose lease ran out or that no one holds,
     * skipping rows a peer is claiming this moment, and hands over their open turns and pending messages.
     */
    private void takeOverExpired() throws SQLException {
        Map<String, Long> taken = new HashMap<>();
        connection.setAutoCommit(false);
        try {
            List<String> expired = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement("SELECT l.session_key FROM session_leases l"
                    + " WHERE l.expires_at < now() AND l.session_key IN (SELECT m.session_key FROM messages m WHERE m.state = "
                    + PENDING + ") LIMIT " + BATCH + " FOR UPDATE OF l SKIP LOCKED")) {
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        expired.add(rows.getString(1));
                    }
                }
            }
            if (!expired.isEmpty()) {
                try (PreparedStatement claim = connection.prepareStatement("UPDATE session_leases SET owner = ?,"
                        + " epoch = epoch + 1, expires_at = now() + ? * interval '1 millisecond'"
                        + " WHERE session_key = ANY(?) RETURNING session_key, epoch")) {
                    claim.setString(1, leases.instanceId);
                    claim.setLong(2, leases.ttlMs);
                    claim.setArray(3, keys(expired));
                    collect(claim, taken);
                }
            }
            try (PreparedStatement unowned = connection.prepareStatement("INSERT INTO session_leases(session_key, owner,"
                    + " epoch, expires_at) SELECT DISTINCT m.session_key, ?, 1, now() + ? * interval '1 millisecond'"
                    + " FROM messages m WHERE m.state = " + PENDING + " AND NOT EXISTS (SELECT 1 FROM session_leases l"
                    + " WHERE l.session_key = m.session_key) LIMIT " + BATCH
                    + " ON CONFLICT (session_key) DO NOTHING RETURNING session_key, epoch")) {
                unowned.setString(1, leases.instanceId);
                unowned.setLong(2, leases.ttlMs);
                collect(unowned, taken);
            }
            connection.commit();
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
        if (taken.isEmpty()) {
            return;
        }
        taken.forEach(leases::tookOver);
        log.info("journal took over sessions={} instance={}", taken.size(), leases.instanceId);
        handOverWorkOf(taken);
    }

    private static void collect(PreparedStatement statement, Map<String, Long> into) throws SQLException {
        try (ResultSet rows = statement.executeQuery()) {
            while (rows.next()) {
                into.put(rows.getString(1), rows.getLong(2));
            }
        }
    }

    /**
     * Hands over the open turns and the pending messages of sessions held here that this gateway is not
     * running: those a peer appended for them, and those of a takeover. A turn already running here (this
     * gateway took its own session back) goes on under the new epoch instead of starting twice.
     */
    private void handOverWorkOf(Map<String, Long> sessions) throws SQLException {
        String[] keys = sessions.keySet().toArray(String[]::new);
        List<Turn> turns = new ArrayList<>();
        Set<Long> inTurns = new HashSet<>();
        for (Turn turn : reads.openTurns(connection, keys)) {
            long epoch = sessions.get(turn.sessionKey());
            turn.messages().forEach(message -> inTurns.add(message.seq()));
            boolean running = leases.runs(turn.id());
            leases.tookOverTurn(turn.id(), turn.sessionKey(), epoch);
            if (!running) {
                turns.add(turn);
            }
        }
        List<InboundMessage> pending = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement("SELECT * FROM messages WHERE state = " + PENDING
                + " AND turn_id IS NULL AND session_key = ANY(?) ORDER BY seq")) {
            select.setArray(1, keys(sessions.keySet()));
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    InboundMessage message = JournalRows.messageFrom(rows);
                    String sessionKey = rows.getString("session_key");
                    if (!inTurns.contains(message.seq()) && !leases.isKnown(message.seq())) {
                        leases.handedOver(message.seq(), sessionKey, sessions.get(sessionKey));
                        pending.add(message);
                    }
                }
            }
        }
        if (!turns.isEmpty() || !pending.isEmpty()) {
            takeover.take(List.of(), turns, pending);
        }
    }

    /**
     * The work left in sessions this gateway holds that it is not doing: turns open that no one here runs
     * (one whose commit was refused here, say), whatever is pending in sessions a write here claimed afresh,
     * then the messages peers appended.
     */
    private void pickUp() throws SQLException {
        Map<String, Long> orphaned = new HashMap<>();
        try (PreparedStatement select = connection.prepareStatement("SELECT t.id, t.session_key, l.epoch FROM turns t"
                + " JOIN session_leases l ON l.session_key = t.session_key WHERE t.state = " + OPEN
                + " AND l.owner = ? AND l.expires_at > now()")) {
            select.setString(1, leases.instanceId);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    if (!leases.runs(rows.getLong(1))) {
                        orphaned.put(rows.getString(2), rows.getLong(3));
                    }
                }
            }
        }
        orphaned.putAll(leases.drainClaimedByWriter());
        if (!orphaned.isEmpty()) {
            handOverWorkOf(orphaned);
        }
        pickUpMessages();
    }

    /** The pending messages peers appended for sessions held here, in one statement: what a NOTIFY announces. */
    private void pickUpMessages() throws SQLException {
        List<InboundMessage> pending = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement("SELECT m.*, l.epoch AS lease_epoch FROM messages m"
                + " JOIN session_leases l ON l.session_key = m.session_key WHERE m.state = " + PENDING
                + " AND m.turn_id IS NULL AND m.appended_by <> ? AND l.owner = ? AND l.expires_at > now() ORDER BY m.seq")) {
            select.setString(1, leases.instanceId);
            select.setString(2, leases.instanceId);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    long seq = rows.getLong("seq");
                    if (!leases.isKnown(seq)) {
                        leases.handedOver(seq, rows.getString("session_key"), rows.getLong("lease_epoch"));
                        pending.add(JournalRows.messageFrom(rows));
                    }
                }
            }
        }
        if (!pending.isEmpty()) {
            takeover.take(List.of(), List.of(), pending);
        }
    }

    /** Claims undelivered replies whose sender's claim ran out (or that no one claimed), oldest first. */
    private void claimReplies() throws SQLException {
        record Claimed(long createdAt, long seq, Reply reply) {
        }
        List<Claimed> claimed = new ArrayList<>();
        try (PreparedStatement claim = connection.prepareStatement("UPDATE outbox SET claimed_by = ?,"
                + " claim_expires = now() + ? * interval '1 millisecond' WHERE reply_id IN (SELECT reply_id FROM outbox"
                + " WHERE delivered_at IS NULL AND failed_at IS NULL AND (claim_expires IS NULL OR claim_expires < now())"
                + " ORDER BY created_at, seq LIMIT " + BATCH + " FOR UPDATE SKIP LOCKED) RETURNING *")) {
            claim.setString(1, leases.instanceId);
            claim.setLong(2, leases.ttlMs);
            try (ResultSet rows = claim.executeQuery()) {
                while (rows.next()) {
                    claimed.add(new Claimed(rows.getLong("created_at"), rows.getLong("seq"), JournalRows.replyFrom(rows)));
                }
            }
        }
        if (!claimed.isEmpty()) {
            claimed.sort((a, b) -> a.createdAt() != b.createdAt() ? Long.compare(a.createdAt(), b.createdAt())
                    : Long.compare(a.seq(), b.seq()));
            log.info("journal took over undelivered replies={} instance={}", claimed.size(), leases.instanceId);
            takeover.take(claimed.stream().map(Claimed::reply).toList(), List.of(), List.of());
        }
    }

    private List<ClusterView.Peer> livePeers() throws SQLException {
        List<ClusterView.Peer> live = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement("SELECT id, host, pid,"
                + " CAST(EXTRACT(EPOCH FROM now() - heartbeat_at) * 1000 AS BIGINT) FROM instances"
                + " WHERE id <> ? AND heartbeat_at > now() - ? * interval '1 millisecond' ORDER BY id")) {
            select.setString(1, leases.instanceId);
            select.setLong(2, leases.ttlMs);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    live.add(new ClusterView.Peer(rows.getString(1), rows.getString(2), rows.getLong(3), rows.getLong(4)));
                }
            }
        }
        return live;
    }

    private Array keys(java.util.Collection<String> keys) throws SQLException {
        return connection.createArrayOf("text", keys.toArray(String[]::new));
    }

    /**
     * Stops polling, then hands back at once what this gateway holds: its leases and reply claims expire now,
     * so a peer takes them over at its next poll rather than a lease later, and its heartbeat row goes.
     */
    @Override
    public void close() {
        closing = true;
        wake.release();
        if (thread.isAlive()) {
            try {
                thread.join(POLL_MS * 3);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (Connection last = connector.open(); Statement statement = last.createStatement()) {
            String me = "'" + leases.instanceId.replace("'", "''") + "'";
            statement.executeUpdate("UPDATE session_leases SET expires_at = now() WHERE owner = " + me);
            statement.executeUpdate("UPDATE outbox SET claim_expires = now() WHERE claimed_by = " + me
                    + " AND delivered_at IS NULL AND failed_at IS NULL");
            statement.executeUpdate("UPDATE leaders SET expires_at = now() WHERE owner = " + me);
            statement.executeUpdate("DELETE FROM instances WHERE id = " + me);
        } catch (SQLException e) {
            log.warn("journal could not hand back its leases database={} reason={}; peers take them over once they expire",
                    connector, e.getMessage());
        }
    }
}
