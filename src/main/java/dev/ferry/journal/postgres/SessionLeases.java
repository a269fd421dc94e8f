package dev.ferry.journal.postgres;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.journal.LeaseLostException;
import dev.ferry.journal.Turn;

/**
 * Which sessions this gateway runs on the shared journal, and the fencing of its writes. A session is run
 * by the gateway holding its row in {@code session_leases}: the owner, an epoch raised on every claim,
 * and an expiry judged by the database's clock. A write that starts or ends a turn first proves, in its
 * own transaction, that the lease is still this gateway's at the epoch the turn was started or taken over
 * with and not yet expired; otherwise the whole write is refused with {@link LeaseLostException}. So a
 * gateway that stalled past its lease and wakes up late cannot commit an answer that the gateway which
 * took the session over (at epoch + 1) commits too.
 *
 * <p>Thread-safe: the writer thread claims and fences, the poller thread renews, adopts and releases;
 * the maps are concurrent and a lease enters {@link #held} only once the transaction claiming it commits.
 */
final class SessionLeases {
    private static final Logger log = LoggerFactory.getLogger(SessionLeases.class);

    /** A turn this gateway runs, under the epoch it started or took it over with. */
    record TurnLease(String sessionKey, long epoch) {
    }

    /** In {@link #turns} for a turn whose commit was refused here: it stays refused until taken over afresh. */
    private static final TurnLease REFUSED = new TurnLease("", -1);

    final String instanceId;
    final long ttlMs;
    private final LongSupplier nanoTime;
    /** Session key → the epoch this gateway holds it at. */
    private final Map<String, Long> held = new ConcurrentHashMap<>();
    private final Map<Long, TurnLease> turns = new ConcurrentHashMap<>();
    /** Pending messages this gateway has routed (seq → session key), so the poller does not hand them over again. */
    private final Map<Long, String> known = new ConcurrentHashMap<>();
    /** Session key → when (monotonic nanos) this gateway last did something in it: kept for a lease after. */
    private final Map<String, Long> activeAt = new ConcurrentHashMap<>();
    /**
     * Sessions a write claimed afresh since the poller last looked: messages appended here earlier, while a
     * peer held them, are this gateway's to run now, and only a look at the whole session finds them.
     */
    private final Map<String, Long> claimedByWriter = new ConcurrentHashMap<>();
    private final AtomicLong leasesLost = new AtomicLong();
    private final AtomicLong lateCommitsRefused = new AtomicLong();
    /** Monotonic nanos of the last renewal the database confirmed; past a lease, this gateway holds nothing. */
    private volatile long renewedAt;
    /** Whether the poller renews at all: a journal whose gateway never resumed it judges nothing by the clock. */
    private volatile boolean renewing;

    SessionLeases(String instanceId, long ttlMs, LongSupplier nanoTime) {
        this.instanceId = instanceId;
        this.ttlMs = ttlMs;
        this.nanoTime = nanoTime;
    }

    // ---- inside the writer's transaction ------------------------------------------------------------------

    /**
     * Claims or renews the session's lease in the open transaction: this gateway's epoch, or empty when
     * another gateway holds a live lease on it. A lease that was this gateway's but is no more counts as lost.
     */
    OptionalLong claim(PostgresTransactions tx, String sessionKey) throws SQLException {
        Long inBatch = tx.claimed.get(sessionKey);
        if (inBatch != null) {
            return OptionalLong.of(inBatch);
        }
        Long mine = heldLive(sessionKey);
        if (mine != null) {
            if (renew(tx, sessionKey, mine)) {
                touch(sessionKey);
                tx.claimed.put(sessionKey, mine);
                return OptionalLong.of(mine);
            }
            lost(sessionKey, mine, "it was taken over");
        }
        if (heldByAnother(tx, sessionKey)) {
            return OptionalLong.empty();
        }
        PreparedStatement claim = tx.cached("""
                INSERT INTO session_leases(session_key, owner, epoch, expires_at)
                VALUES (?, ?, 1, now() + ? * interval '1 millisecond')
                ON CONFLICT (session_key) DO UPDATE SET owner = excluded.owner, epoch = session_leases.epoch + 1,
                  expires_at = excluded.expires_at
                WHERE session_leases.expires_at < now()
                RETURNING epoch""");
        claim.setString(1, sessionKey);
        claim.setString(2, instanceId);
        claim.setLong(3, ttlMs);
        try (ResultSet row = claim.executeQuery()) {
            if (!row.next()) {
                return OptionalLong.empty();
            }
            long epoch = row.getLong(1);
            tx.claimed.put(sessionKey, epoch);
            tx.onCommit(() -> {
                held.put(sessionKey, epoch);
                claimedByWriter.put(sessionKey, epoch);
                touch(sessionKey);
            });
            return OptionalLong.of(epoch);
        }
    }

    /**
     * For a message that arrives here while the session is held by another gateway, this gateway only needs
     * to know so: reading the row takes no lock, where a claim that finds it live would hold the row (and
     * stall its holder's next commit) until this gateway's batch commits.
     */
    private boolean heldByAnother(PostgresTransactions tx, String sessionKey) throws SQLException {
        PreparedStatement select = tx.cached("SELECT owner FROM session_leases WHERE session_key = ? AND expires_at > now()");
        select.setString(1, sessionKey);
        try (ResultSet row = select.executeQuery()) {
            return row.next() && !row.getString(1).equals(instanceId);
        }
    }

    /**
     * Whether a message for {@code sessionKey} that arrives now is routed here without touching the lease:
     * this gateway holds it, and the poller renews it while in use. Should it have been lost meanwhile, the
     * turn's start is refused (it proves the lease), and the new holder picks the message up.
     */
    OptionalLong heldHere(PostgresTransactions tx, String sessionKey) {
        Long mine = tx.claimed.get(sessionKey);
        if (mine == null) {
            mine = heldLive(sessionKey);
            if (mine == null) {
                return OptionalLong.empty();
            }
            touch(sessionKey);
        }
        return OptionalLong.of(mine);
    }

    /** The epoch this gateway holds {@code sessionKey} at, unless it holds nothing (fenced) or not that. */
    private Long heldLive(String sessionKey) {
        return selfFenced() ? null : held.get(sessionKey);
    }

    /** Extends this gateway's live lease at {@code epoch}; false when it is not this gateway's, at that epoch, any more. */
    private boolean renew(PostgresTransactions tx, String sessionKey, long epoch) throws SQLException {
        return tx.update("UPDATE session_leases SET expires_at = now() + ? * interval '1 millisecond'"
                + " WHERE session_key = ? AND owner = ? AND epoch = ? AND expires_at > now()",
                ttlMs, sessionKey, instanceId, epoch) == 1;
    }

    /**
     * Proves the turn's lease in the open transaction, or refuses the write. A turn this gateway neither
     * started nor took over (one read back after a restart) claims its session first, as a takeover would.
     */
    void fence(PostgresTransactions tx, Turn turn) throws SQLException {
        TurnLease lease = turns.get(turn.id());
        if (lease == null) {
            if (claim(tx, turn.sessionKey()).isEmpty()) {
                throw new LeaseLostException("session " + turn.sessionKey() + " is held by another gateway;"
                        + " turn " + turn.id() + " is theirs to run");
            }
            return;
        }
        if (lease == REFUSED || selfFenced() || !renew(tx, turn.sessionKey(), lease.epoch())) {
            // Every later write of this turn is refused too, until a takeover hands it to this gateway afresh.
            turns.put(turn.id(), REFUSED);
            lost(turn.sessionKey(), lease.epoch(), "its lease ended before the turn committed");
            throw new LeaseLostException("lease of session " + turn.sessionKey() + " at epoch " + lease.epoch()
                    + " is no longer this gateway's; the late commit of turn " + turn.id() + " is refused");
        }
        touch(turn.sessionKey());
    }

    /**
     * Notes that this gateway runs {@code turnId} under {@code epoch}, ahead of the commit (so the poller
     * never sees the committed turn as no one's here), and forgets it if the transaction rolls back.
     */
    void running(PostgresTransactions tx, long turnId, String sessionKey, long epoch) {
        turns.put(turnId, new TurnLease(sessionKey, epoch));
        tx.onAbandon(() -> turns.remove(turnId));
    }

    /** Notes, once committed, that the turn ended here. */
    void ended(PostgresTransactions tx, long turnId) {
        tx.onCommit(() -> turns.remove(turnId));
    }

    /** Notes a message this gateway routes itself, ahead of the commit so the poller never sees it unknown. */
    void routing(PostgresTransactions tx, long seq, String sessionKey) {
        known.put(seq, sessionKey);
        tx.onAbandon(() -> known.remove(seq));
    }

    /** Notes, once committed, that the message is settled. */
    void settled(PostgresTransactions tx, long seq) {
        tx.onCommit(() -> known.remove(seq));
    }

    // ---- the poller's side --------------------------------------------------------------------------------

    /** The sessions writes claimed afresh since the last call. */
    Map<String, Long> drainClaimedByWriter() {
        Map<String, Long> drained = new HashMap<>();
        claimedByWriter.keySet().forEach(key -> {
            Long epoch = claimedByWriter.remove(key);
            if (epoch != null) {
                drained.put(key, epoch);
            }
        });
        return drained;
    }

    boolean routesHere(long seq) {
        return known.containsKey(seq);
    }

    boolean isKnown(long seq) {
        return known.containsKey(seq);
    }

    void handedOver(long seq, String sessionKey, long epoch) {
        known.put(seq, sessionKey);
        held.putIfAbsent(sessionKey, epoch);
        touch(sessionKey);
    }

    void tookOver(String sessionKey, long epoch) {
        held.put(sessionKey, epoch);
        touch(sessionKey);
    }

    void tookOverTurn(long turnId, String sessionKey, long epoch) {
        turns.put(turnId, new TurnLease(sessionKey, epoch));
    }

    /** Whether this gateway is running {@code turnId} under a lease it has not been refused. */
    boolean runs(long turnId) {
        TurnLease lease = turns.get(turnId);
        return lease != null && lease != REFUSED;
    }

    Map<String, Long> held() {
        return Map.copyOf(held);
    }

    /**
     * The held sessions still in use (a message routed here and not settled, a turn running, or activity
     * within a lease): those are renewed; the others are released.
     */
    Set<String> inUse() {
        Set<String> busy = new HashSet<>(known.values());
        turns.values().forEach(turn -> busy.add(turn.sessionKey()));
        busy.remove(REFUSED.sessionKey());
        long cutoff = nanoTime.getAsLong() - ttlMs * 1_000_000;
        activeAt.forEach((key, at) -> {
            if (at - cutoff > 0) {
                busy.add(key);
            }
        });
        busy.retainAll(held.keySet());
        return busy;
    }

    /** What the database confirmed renewing, for the sessions asked: any asked and not confirmed at its epoch is lost. */
    void renewed(Map<String, Long> asked, Map<String, Long> confirmed, long askedAtNanos) {
        asked.forEach((key, epoch) -> {
            if (!epoch.equals(confirmed.get(key))) {
                lost(key, epoch, "another gateway took it over");
            }
        });
        renewedAt = askedAtNanos;
        renewing = true;
    }

    /** Forgets sessions released; what this gateway knew of their messages goes with them. */
    void released(Set<String> sessionKeys) {
        sessionKeys.forEach(key -> {
            held.remove(key);
            activeAt.remove(key);
        });
        known.values().removeIf(sessionKeys::contains);
    }

    /**
     * Whether this gateway's leases may have ended without it knowing: its last confirmed renewal is older
     * than a lease, by its own monotonic clock. It then holds nothing, and every fenced write is refused.
     */
    boolean selfFenced() {
        return renewing && nanoTime.getAsLong() - renewedAt > ttlMs * 1_000_000;
    }

    /** Called when a renewal is overdue: drops every lease, so no turn of them commits until claimed again. */
    void fenceAll() {
        if (!held.isEmpty()) {
            log.warn("journal leases could not be renewed within {} ms: this gateway gives up {} session(s)", ttlMs,
                    held.size());
            new HashMap<>(held).forEach((key, epoch) -> lost(key, epoch, "renewal overdue"));
        }
    }

    void refusedLateCommit() {
        lateCommitsRefused.incrementAndGet();
    }

    int sessionsHeld() {
        return held.size();
    }

    long leasesLost() {
        return leasesLost.get();
    }

    long lateCommitsRefused() {
        return lateCommitsRefused.get();
    }

    private void lost(String sessionKey, long epoch, String why) {
        if (held.remove(sessionKey, epoch)) {
            leasesLost.incrementAndGet();
            activeAt.remove(sessionKey);
            known.values().removeIf(sessionKey::equals);
            log.warn("session lease lost session={} epoch={} instance={} reason=\"{}\"", sessionKey, epoch, instanceId, why);
        }
    }

    private void touch(String sessionKey) {
        activeAt.put(sessionKey, nanoTime.getAsLong());
    }
}
