package dev.ferry.journal.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.journal.LeaseLostException;

/**
 * The roles that one gateway at a time may play, such as polling one Telegram bot: a row in {@code leaders}
 * per role with the owner, an epoch raised on every claim by a new owner, and an expiry by the database's
 * clock. A gateway asks for a role by asking whether it plays it ({@link #leads}); the poller thread then
 * claims the role whenever it is free or expired and renews it with the session leases. A write that a
 * role's holder alone may make (the poller's offset) proves the role in its own transaction ({@link #guard}).
 * Thread-safe: the maps are concurrent; the poller claims and renews, the writer guards.
 */
final class Leadership {
    private static final Logger log = LoggerFactory.getLogger(Leadership.class);

    private final SessionLeases leases;
    private final Set<String> wanted = ConcurrentHashMap.newKeySet();
    /** Role → the epoch this gateway plays it at. */
    private final Map<String, Long> leading = new ConcurrentHashMap<>();

    Leadership(SessionLeases leases) {
        this.leases = leases;
    }

    /** Whether this gateway plays {@code role} now; the first call asks for it, and the poller claims it once free. */
    boolean leads(String role) {
        wanted.add(role);
        return !leases.selfFenced() && leading.containsKey(role);
    }

    /** Whether this gateway plays any role starting with {@code prefix} now. */
    boolean leadsAny(String prefix) {
        return !leases.selfFenced() && leading.keySet().stream().anyMatch(role -> role.startsWith(prefix));
    }

    /** Poller thread: renews the roles played and claims the wanted ones that are free or expired. */
    void claimAndRenew(Connection connection) throws SQLException {
        for (String role : wanted) {
            Long epoch = leading.get(role);
            if (epoch != null && !renew(connection, role, epoch)) {
                leading.remove(role);
                log.warn("role lost role={} epoch={} instance={}: another gateway took it over", role, epoch,
                        leases.instanceId);
                epoch = null;
            }
            if (epoch == null) {
                claim(connection, role);
            }
        }
    }

    private boolean renew(Connection connection, String role, long epoch) throws SQLException {
        try (PreparedStatement renew = connection.prepareStatement("UPDATE leaders"
                + " SET expires_at = now() + ? * interval '1 millisecond'"
                + " WHERE role = ? AND owner = ? AND epoch = ? AND expires_at > now()")) {
            renew.setLong(1, leases.ttlMs);
            renew.setString(2, role);
            renew.setString(3, leases.instanceId);
            renew.setLong(4, epoch);
            return renew.executeUpdate() == 1;
        }
    }

    private void claim(Connection connection, String role) throws SQLException {
        try (PreparedStatement claim = connection.prepareStatement("""
                INSERT INTO leaders(role, owner, epoch, expires_at) VALUES (?, ?, 1, now() + ? * interval '1 millisecond')
                ON CONFLICT (role) DO UPDATE SET owner = excluded.owner, epoch = leaders.epoch + 1,
                  expires_at = excluded.expires_at
                WHERE leaders.expires_at < now()
                RETURNING epoch""")) {
            claim.setString(1, role);
            claim.setString(2, leases.instanceId);
            claim.setLong(3, leases.ttlMs);
            try (ResultSet row = claim.executeQuery()) {
                if (row.next()) {
                    leading.put(role, row.getLong(1));
                    log.info("role taken role={} epoch={} instance={}", role, row.getLong(1), leases.instanceId);
                }
            }
        }
    }

    /**
     * Writer thread, in the open transaction: proves this gateway plays {@code role} at its epoch, or, when it
     * does not, that no other gateway plays it now; otherwise refuses the whole write.
     */
    void guard(PostgresTransactions tx, String role) throws SQLException {
        Long epoch = leading.get(role);
        if (epoch != null && !leases.selfFenced()) {
            if (tx.update("UPDATE leaders SET expires_at = now() + ? * interval '1 millisecond'"
                    + " WHERE role = ? AND owner = ? AND epoch = ? AND expires_at > now()",
                    leases.ttlMs, role, leases.instanceId, epoch) == 1) {
                return;
            }
            leading.remove(role, epoch);
        } else {
            PreparedStatement held = tx.cached("SELECT owner FROM leaders WHERE role = ? AND expires_at > now()");
            held.setString(1, role);
            try (ResultSet row = held.executeQuery()) {
                if (!row.next() || row.getString(1).equals(leases.instanceId)) {
                    return;
                }
            }
        }
        throw new LeaseLostException("another gateway plays " + role + " now; what this one fetched is fetched again by it");
    }

    /** Every role this gateway plays, handed back on close so a peer claims it at its next poll. */
    Set<String> played() {
        return Set.copyOf(leading.keySet());
    }
}
