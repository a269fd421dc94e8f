package dev.ferry.agent.command;

import java.nio.charset.StandardCharsets;

import com.google.errorprone.annotations.concurrent.GuardedBy;

/**
 * The last bytes a program wrote to stderr, kept for the log line of a failed turn: a ring of
 * {@code capacity} bytes, so a chatty program costs no more memory than a quiet one. Thread-safe;
 * the ring is guarded by {@code this} (appended by the stderr reader, read by whoever ends the run).
 */
final class StderrTail {

    @GuardedBy("this")
    private final byte[] ring;
    /** Bytes ever appended; the ring holds the last {@code min(total, capacity)} of them. */
    @GuardedBy("this")
    private long total;

    StderrTail(int capacity) {
        this.ring = new byte[capacity];
    }

    synchronized void append(byte[] bytes, int length) {
        // Of a write longer than the ring only its end can survive.
        int skip = Math.max(0, length - ring.length);
        total += skip;
        for (int i = skip; i < length; i++) {
            ring[(int) (total++ % ring.length)] = bytes[i];
        }
    }

    /**
     * The kept bytes as one line: decoded as UTF-8, its lines joined with {@code " | "}, so what a
     * program prints can never pose as a log line of its own; {@code ...} in front when earlier output was cut.
     */
    synchronized String text() {
        int kept = (int) Math.min(total, ring.length);
        byte[] bytes = new byte[kept];
        for (int i = 0; i < kept; i++) {
            bytes[i] = ring[(int) ((total - kept + i) % ring.length)];
        }
        String joined = new String(bytes, StandardCharsets.UTF_8).strip().replaceAll("\\s*[\\r\\n]+\\s*", " | ");
        return total > ring.length ? "..." + joined : joined;
    }
}
