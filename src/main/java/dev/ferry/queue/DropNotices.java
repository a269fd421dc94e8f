package dev.ferry.queue;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.delivery.Outbox;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.time.Scheduler;

/**
 * Tells a conversation that messages were dropped, at most once per {@link #INTERVAL} per session and
 * destination (a shared session may span conversations, each told of its own drops):
 * the first drop is reported at once, later ones are counted and reported together when the interval
 * ends. Every dropped message is in exactly one notice. A destination is forgotten once an interval
 * passes with nothing to report, so quiet sessions cost nothing. Thread-safe; state is guarded by {@code lock},
 * and the journal and outbox are called outside it.
 */
final class DropNotices {
    private static final Logger log = LoggerFactory.getLogger(DropNotices.class);

    static final Duration INTERVAL = Duration.ofSeconds(60);

    private final Journal journal;
    private final Outbox outbox;
    private final Scheduler scheduler;
    private final Object lock = new Object();
    /** Per session and destination; each {@link Pending} in it is reached only through it, so under the same lock. */
    @GuardedBy("lock")
    private final Map<String, Pending> bySession = new HashMap<>();

    /** A session's drops not yet reported. Not thread-safe: only touched through {@link #bySession}. */
    private static final class Pending {
        long lastSentAt = Long.MIN_VALUE;
        int unreported;
        InboundMessage about;
        String policy;
        boolean timerSet;
    }

    DropNotices(Journal journal, Outbox outbox, Scheduler scheduler) {
        this.journal = journal;
        this.outbox = outbox;
        this.scheduler = scheduler;
    }

    void report(String sessionKey, InboundMessage about, int count, String policy) {
        String key = sessionKey + '\u0000' + Destination.of(about);
        boolean sendNow;
        synchronized (lock) {
            Pending pending = bySession.computeIfAbsent(key, k -> new Pending());
            pending.unreported += count;
            pending.about = about;
            pending.policy = policy;
            long now = scheduler.nowMillis();
            sendNow = pending.lastSentAt == Long.MIN_VALUE || now - pending.lastSentAt >= INTERVAL.toMillis();
            if (!sendNow && !pending.timerSet) {
                pending.timerSet = true;
                long due = pending.lastSentAt + INTERVAL.toMillis();
                scheduler.schedule(Duration.ofMillis(Math.max(0, due - now)), () -> send(key, sessionKey));
            }
        }
        if (sendNow) {
            send(key, sessionKey);
        }
    }

    /** Number of session and destination pairs remembered for rate limiting. */
    int trackedDestinations() {
        synchronized (lock) {
            return bySession.size();
        }
    }

    /** The entry only rate-limits: once its interval has passed with nothing waiting, it goes. */
    private void forgetIfQuiet(String key) {
        synchronized (lock) {
            Pending pending = bySession.get(key);
            if (pending != null && pending.unreported == 0 && !pending.timerSet
                    && scheduler.nowMillis() - pending.lastSentAt >= INTERVAL.toMillis()) {
                bySession.remove(key);
            }
        }
    }

    private void send(String key, String sessionKey) {
        int count;
        InboundMessage about;
        String policy;
        synchronized (lock) {
            Pending pending = bySession.get(key);
            if (pending == null) {
                return;
            }
            pending.timerSet = false;
            if (pending.unreported == 0) {
                return;
            }
            count = pending.unreported;
            about = pending.about;
            policy = pending.policy;
            pending.unreported = 0;
            pending.lastSentAt = scheduler.nowMillis();
        }
        scheduler.schedule(INTERVAL, () -> forgetIfQuiet(key));
        String text = "Ferry dropped " + count + " message(s) from this conversation because the queue was full"
                + " (drop policy: " + policy + ").";
        journal.recordNotice(sessionKey, about, text).whenComplete((notice, error) -> {
            if (error != null) {
                log.error("could not record drop notice session={}", sessionKey, error);
            } else {
                outbox.enqueue(notice);
            }
        });
    }
}
