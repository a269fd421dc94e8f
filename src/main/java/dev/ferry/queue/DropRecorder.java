package dev.ferry.queue;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.config.DropPolicy;
import dev.ferry.delivery.Outbox;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.time.Scheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Accounts for every message a followup queue gives up (SPEC 3.2 "nothing is dropped silently"): counted
 * per reason, journaled as dropped with that reason, published, and for the cap, reported to the
 * conversation by {@link DropNotices}. Called after the scheduler's lock is released. Thread-safe.
 */
final class DropRecorder {
    private static final Logger log = LoggerFactory.getLogger(DropRecorder.class);

    private final Journal journal;
    private final MeterRegistry metrics;
    private final QueueEvents events;
    private final QueueDirectives settings;
    private final DropNotices notices;

    DropRecorder(Journal journal, Outbox outbox, Scheduler scheduler, MeterRegistry metrics, QueueEvents events,
                 QueueDirectives settings) {
        this.journal = journal;
        this.metrics = metrics;
        this.events = events;
        this.settings = settings;
        this.notices = new DropNotices(journal, outbox, scheduler);
    }

    /** What the cap and drop policy gave up; {@code queued} is the queue's depth after it. */
    void capDrops(String sessionKey, List<QueuedItem> dropped, DropPolicy policy, int queued) {
        List<InboundMessage> messages = messagesOf(dropped);
        String reason = "queue-cap-" + policy.configName();
        counter(reason).increment(messages.size());
        log.info("queue dropped messages session={} count={} reason={}", sessionKey, messages.size(), reason);
        journal.dropMessages(messages, reason).whenComplete((ok, error) -> {
            if (error != null) {
                log.error("could not record dropped messages session={}", sessionKey, error);
            }
        });
        events.dropped(sessionKey, messages, reason, queued);
        if (settings.config().notifyDrops()) {
            notices.report(sessionKey, messages.get(messages.size() - 1), messages.size(), policy.configName());
        }
    }

    /** What {@code /stop} cleared from the queue; the conversation asked for it, so it gets no notice. */
    void stopped(String sessionKey, List<QueuedItem> cleared) {
        if (cleared.isEmpty()) {
            return;
        }
        List<InboundMessage> messages = messagesOf(cleared);
        String reason = AbortCause.STOP.journalReason();
        counter(reason).increment(messages.size());
        journal.dropMessages(messages, reason);
        events.dropped(sessionKey, messages, reason, 0);
    }

    /** Per reason; one description for all, since Prometheus keeps one HELP line per metric name. */
    private Counter counter(String reason) {
        return Counter.builder("ferry.queue.dropped").tag("reason", reason)
                .description("Messages a followup queue dropped (cap policy or /stop), journaled with the reason")
                .register(metrics);
    }

    private static List<InboundMessage> messagesOf(List<QueuedItem> items) {
        return items.stream().flatMap(item -> item.messages().stream()).toList();
    }
}
