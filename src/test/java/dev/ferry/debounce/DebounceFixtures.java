package dev.ferry.debounce;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import dev.ferry.delivery.RetryPolicy;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Media;
import dev.ferry.session.ChatCommands;
import dev.ferry.time.ManualScheduler;
import dev.ferry.time.Scheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** Messages, settings and a recording handler for debouncer tests; time is a {@link ManualScheduler}. */
final class DebounceFixtures {

    /** The bypass rule the gateway hands its debouncers: a chat command goes at once. */
    static final Predicate<InboundMessage> COMMANDS = message -> ChatCommands.isCommand(message.text());
    static final RetryPolicy RETRY = new RetryPolicy(Duration.ofMillis(100), Duration.ofMillis(400));
    private static final AtomicLong SEQ = new AtomicLong();

    final ManualScheduler clock = new ManualScheduler();
    final DebouncerRegistry registry = new DebouncerRegistry(clock);
    final SimpleMeterRegistry metrics = new SimpleMeterRegistry();

    static DebounceSettings window(long windowMs) {
        return new DebounceSettings(Duration.ofMillis(windowMs), Duration.ofMillis(windowMs * 5), 50, 2048);
    }

    static InboundMessage text(String conversation, String sender, String text) {
        long seq = SEQ.incrementAndGet();
        return new InboundMessage(seq, "webhook", "default", conversation, sender, "m-" + seq, text, null, null,
                List.of(), 0);
    }

    static InboundMessage withMedia(String conversation, String sender, String text) {
        long seq = SEQ.incrementAndGet();
        return new InboundMessage(seq, "webhook", "default", conversation, sender, "m-" + seq, text, null, null,
                List.of(new Media("https://example.invalid/p.png", "image/png")), 0);
    }

    InboundDebouncer debouncer(DebounceSettings settings, BatchHandler handler) {
        return debouncer(settings, handler, clock);
    }

    InboundDebouncer debouncer(DebounceSettings settings, BatchHandler handler, Scheduler timers) {
        return new InboundDebouncer("webhook", settings, COMMANDS, handler, timers, RETRY, registry, metrics);
    }

    /** This fixture's clock, but a cancel never stops a timer: as when the timer thread has already taken it. */
    Scheduler cancelsTooLate() {
        return new Scheduler() {
            @Override
            public long nowMillis() {
                return clock.nowMillis();
            }

            @Override
            public Cancellable schedule(Duration delay, Runnable task) {
                clock.schedule(delay, task);
                return () -> { };
            }
        };
    }

    /** Records every batch it is handed, in order. */
    static final class Recorder implements BatchHandler {
        private final List<InboundBatch> batches = new ArrayList<>();

        @Override
        public synchronized void deliver(InboundBatch batch) {
            batches.add(batch);
        }

        synchronized List<InboundBatch> batches() {
            return List.copyOf(batches);
        }

        synchronized List<List<String>> texts() {
            return batches.stream().map(b -> b.messages().stream().map(InboundMessage::text).toList()).toList();
        }
    }
}
