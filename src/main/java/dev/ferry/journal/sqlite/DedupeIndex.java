package dev.ferry.journal.sqlite;

import java.util.function.LongPredicate;

/**
 * The journal's dedupe index, held in memory: 64-bit key of (channel, account, conversation, messageId)
 * → seq, for every message the journal holds. It is built from the journal when it opens and changed
 * only by the writer, so it is exactly as complete as the journal; it is not a cache with an expiry.
 * Kept here rather than as a unique index in SQLite because such an index, keyed by conversation, puts
 * every new message on a different page: that page is written to the WAL and synced on every commit,
 * which cost the single writer more than the insert itself.
 *
 * <p>Keys can collide, so a key names candidates only; the caller compares the stored message. Open
 * addressing with linear probing, two parallel arrays, no boxing. Not thread-safe: the writer owns it.
 */
final class DedupeIndex {
    private static final long EMPTY = 0;
    private static final int MIN_CAPACITY = 1 << 10;

    private long[] keys = new long[MIN_CAPACITY];
    private long[] seqs = new long[MIN_CAPACITY];
    private int size;

    /**
     * A well-mixed 64-bit key, never {@link #EMPTY}; equal messages always get equal keys. Journals store
     * it, so this function must never change: a changed key would miss the duplicates of stored messages.
     */
    static long keyOf(String channel, String account, String conversation, String messageId) {
        long hash = 0x9E3779B97F4A7C15L;
        hash = mix(hash, channel);
        hash = mix(hash, account);
        hash = mix(hash, conversation);
        hash = mix(hash, messageId);
        hash ^= hash >>> 33;
        hash *= 0xFF51AFD7ED558CCDL;
        hash ^= hash >>> 33;
        hash *= 0xC4CEB9FE1A85EC53L;
        hash ^= hash >>> 33;
        return hash == EMPTY ? 1 : hash;
    }

    private static long mix(long hash, String part) {
        for (int i = 0; i < part.length(); i++) {
            hash = (hash ^ part.charAt(i)) * 0x100000001B3L;
        }
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        return (hash ^ 0x1F) * 0x100000001B3L;
    }

    int size() {
        return size;
    }

    void add(long key, long seq) {
        if (2 * (size + 1) > keys.length) {
            grow();
        }
        int slot = slotOf(key, keys.length);
        while (keys[slot] != EMPTY) {
            slot = (slot + 1) & (keys.length - 1);
        }
        keys[slot] = key;
        seqs[slot] = seq;
        size++;
    }

    /** Calls {@code visitor} with each seq stored under {@code key} until it returns true; returns that seq or -1. */
    long find(long key, LongPredicate visitor) {
        for (int slot = slotOf(key, keys.length); keys[slot] != EMPTY; slot = (slot + 1) & (keys.length - 1)) {
            if (keys[slot] == key && visitor.test(seqs[slot])) {
                return seqs[slot];
            }
        }
        return -1;
    }

    /** Removes the entry (key, seq) if present, closing the gap so later probes still find what follows it. */
    void remove(long key, long seq) {
        int mask = keys.length - 1;
        int slot = slotOf(key, keys.length);
        while (keys[slot] != EMPTY && !(keys[slot] == key && seqs[slot] == seq)) {
            slot = (slot + 1) & mask;
        }
        if (keys[slot] == EMPTY) {
            return;
        }
        size--;
        int gap = slot;
        for (int next = (gap + 1) & mask; keys[next] != EMPTY; next = (next + 1) & mask) {
            int home = slotOf(keys[next], keys.length);
            // Move the entry back into the gap unless its home lies cyclically in (gap, next].
            boolean homeAfterGap = gap <= next ? (gap < home && home <= next) : (gap < home || home <= next);
            if (!homeAfterGap) {
                keys[gap] = keys[next];
                seqs[gap] = seqs[next];
                gap = next;
            }
        }
        keys[gap] = EMPTY;
        seqs[gap] = 0;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldSeqs = seqs;
        keys = new long[oldKeys.length * 2];
        seqs = new long[oldKeys.length * 2];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                add(oldKeys[i], oldSeqs[i]);
            }
        }
    }

    private static int slotOf(long key, int capacity) {
        return (int) (key ^ (key >>> 32)) & (capacity - 1);
    }
}
