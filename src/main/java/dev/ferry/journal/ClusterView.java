package dev.ferry.journal;

import java.util.List;

/**
 * This gateway among the others that share its journal, as {@code status} shows it. {@code leasesLost}
 * counts sessions taken from this gateway while it held them (it stalled past their lease, or could not
 * renew in time); {@code lateCommitsRefused} the writes refused for that reason, each a turn that another
 * gateway runs instead. {@code peers} are the other gateways whose heartbeat is younger than a lease.
 */
public record ClusterView(String instanceId, long leaseTtlMs, int sessionsHeld, long leasesLost,
                          long lateCommitsRefused, boolean telegramPoller, List<Peer> peers) {

    public ClusterView {
        peers = List.copyOf(peers);
    }

    /** Another live gateway: its instance id, its process and host, and how long ago it last beat. */
    public record Peer(String instanceId, String host, long pid, long heartbeatAgoMs) {
    }
}
