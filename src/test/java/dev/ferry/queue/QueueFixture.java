package dev.ferry.queue;

import static dev.ferry.journal.TestMessages.journaled;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.FerryConfig;
import dev.ferry.config.QueueConfig;
import dev.ferry.config.QueueMode;
import dev.ferry.delivery.Outbox;
import dev.ferry.delivery.SendOutcome;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.journal.InMemoryJournal;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.Reply;
import dev.ferry.journal.TestMessages;
import dev.ferry.time.ManualScheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * One deterministic followup-queue world per test: manual time, turns started on the calling thread,
 * a backend the test answers, the in-memory journal, and an outbox whose webhook transport accepts
 * every reply at once and remembers it. Not thread-safe beyond what its parts are.
 */
final class QueueFixture {

    static final String SESSION = "agent:main:webhook:default:c1";
    static final String OTHER_SESSION = "agent:main:webhook:default:c2";
    static final String THIRD_SESSION = "agent:main:webhook:default:c3";
    static final RetryPolicy RETRY = new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(1));

    final InMemoryJournal journal = new InMemoryJournal();
    final ManualScheduler scheduler = new ManualScheduler();
    final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    final ControlledBackend backend = new ControlledBackend();
    /** Everything the webhook transport was handed, turn replies and notices alike, in order. */
    final List<Reply> sent = Collections.synchronizedList(new ArrayList<>());
    final Outbox outbox = new Outbox(journal, scheduler, RetryPolicy.DEFAULT, metrics);
    /** What the scheduler published, each with how many replies the transport had been handed at that moment. */
    final RecordingEvents events = new RecordingEvents(sent::size);
    private int messageIds;

    QueueFixture() {
        outbox.useTransport(TestMessages.CHANNEL, reply -> {
            sent.add(reply);
            return CompletableFuture.completedFuture(SendOutcome.DELIVERED);
        }, 16);
    }

    /** The built-in queue settings: collect, 1000 ms queue debounce, cap 20, summarize, notices on. */
    static QueueConfig defaults() {
        return FerryConfig.defaults().messages().queue();
    }

    static QueueConfig queue(QueueMode mode, long debounceMs, int cap, DropPolicy drop) {
        return new QueueConfig(mode, debounceMs, 0, cap, drop, true, Map.of());
    }

    TurnScheduler turns(QueueConfig queueConfig) {
        return turns(queueConfig, journal);
    }

    /** A scheduler that writes to {@code seenBy}, e.g. a fake in front of this fixture's journal. */
    TurnScheduler turns(QueueConfig queueConfig, Journal seenBy) {
        return new TurnScheduler(seenBy, backend, outbox, new TurnSettings(8, "be brief", 20), queueConfig, scheduler,
                Runnable::run, RETRY, metrics, events);
    }

    /** A journaled message in conversation {@code c1} with a fresh message id. */
    InboundMessage message(String text) {
        return message("c1", text);
    }

    InboundMessage message(String conversation, String text) {
        return journaled(journal, TestMessages.inbound(conversation, "alice", nextId(), text));
    }

    /** A journaled message in conversation {@code c1}, in the given platform thread. */
    InboundMessage inThread(String threadId, String text) {
        return journaled(journal, new InboundMessage(0, TestMessages.CHANNEL, TestMessages.ACCOUNT, "c1", "alice",
                nextId(), text, threadId, null, List.of(), 1_700_000_000_000L));
    }

    private String nextId() {
        return "m" + (++messageIds);
    }

    void submit(TurnScheduler turns, String sessionKey, InboundMessage message) {
        turns.submit(sessionKey, List.of(message));
    }

    /** Replies of agent turns (not notices) the transport was handed, in order. */
    List<Reply> turnReplies() {
        synchronized (sent) {
            return sent.stream().filter(reply -> reply.turnId() != 0).toList();
        }
    }

    /** Notices from Ferry itself the transport was handed, in order. */
    List<Reply> notices() {
        synchronized (sent) {
            return sent.stream().filter(reply -> reply.turnId() == 0).toList();
        }
    }

    double droppedMetric() {
        return metrics.find("ferry.queue.dropped").counters().stream().mapToDouble(Counter::count).sum();
    }

    void advance(long millis) {
        scheduler.advance(Duration.ofMillis(millis));
    }
}
