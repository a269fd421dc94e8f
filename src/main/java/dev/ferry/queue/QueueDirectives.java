package dev.ferry.queue;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.config.QueueConfig;
import dev.ferry.config.QueueOverride;
import dev.ferry.config.QueueSettings;
import dev.ferry.journal.Journal;

/**
 * Which queue settings apply to a session (SPEC 3.2, first match wins: the session's {@code /queue} directive,
 * then {@code messages.queue.byChannel}, then {@code messages.queue}), and the directives themselves, read
 * from the journal once, so a turn
 * never waits on a journal read for them and a session without settings costs nothing here. A change is
 * applied at once and journaled in the order changes were made; a save that fails takes its change back,
 * unless a later change replaced it. Thread-safe; the map is guarded by {@code lock}, which is never held
 * while waiting for the journal; the configuration is swapped whole on reload. The scheduler may read here while holding its own lock; this class never
 * calls back into the scheduler.
 */
final class QueueDirectives {

    private final Journal journal;
    private final Object lock = new Object();
    @GuardedBy("lock")
    private final Map<String, QueueOverride> bySession;

    private volatile QueueConfig config;

    QueueDirectives(Journal journal, QueueConfig config) {
        this.journal = journal;
        this.config = config;
        this.bySession = new HashMap<>(journal.queueDirectives());
    }

    void useConfig(QueueConfig newConfig) {
        this.config = newConfig;
    }

    QueueConfig config() {
        return config;
    }

    /** The settings that apply to the session's next message on {@code channel}. */
    QueueSettings settingsFor(String sessionKey, String channel) {
        QueueOverride directive;
        synchronized (lock) {
            directive = bySession.get(sessionKey);
        }
        return config.settingsFor(channel).overriddenBy(directive);
    }

    /**
     * {@code change} gets the stored directive (null if none) and returns the new one, where null or empty
     * clears it. Read, change and the journal's save are ordered under the lock, so two quick changes never
     * lose each other's fields.
     *
     * @return the save, complete once the journal committed it
     */
    CompletableFuture<Void> change(String sessionKey, UnaryOperator<QueueOverride> change) {
        QueueOverride before;
        QueueOverride after;
        CompletableFuture<Void> saved;
        synchronized (lock) {
            before = bySession.get(sessionKey);
            QueueOverride changed = change.apply(before);
            after = changed == null || changed.isEmpty() ? null : changed;
            put(sessionKey, after);
            saved = journal.saveQueueDirective(sessionKey, after);
        }
        saved.whenComplete((ignored, error) -> {
            if (error != null) {
                synchronized (lock) {
                    if (Objects.equals(bySession.get(sessionKey), after)) {
                        put(sessionKey, before);
                    }
                }
            }
        });
        return saved;
    }

    @GuardedBy("lock")
    private void put(String sessionKey, QueueOverride directive) {
        if (directive == null) {
            bySession.remove(sessionKey);
        } else {
            bySession.put(sessionKey, directive);
        }
    }
}
