package dev.ferry.intake;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.journal.AppendResult;
import dev.ferry.journal.ChannelCursor;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The one door into the pipeline for every channel: journal first, then hand on. A message is passed
 * to the sink only after its append committed and only if it was not a duplicate, so the sink sees
 * each accepted message exactly once. Thread-safe.
 */
public final class Intake {
    private static final Logger log = LoggerFactory.getLogger(Intake.class);

    /** What a refusal for an unavailable journal asks the sender to wait before trying again. */
    public static final int RETRY_UNAVAILABLE_AFTER_SECONDS = 5;

    private final Journal journal;
    private final MessageSink next;
    private final MeterRegistry metrics;
    private final Map<String, Counter> accepted = new ConcurrentHashMap<>();
    private final Map<String, Counter> duplicates = new ConcurrentHashMap<>();

    public Intake(Journal journal, MessageSink next, MeterRegistry metrics) {
        this.journal = journal;
        this.next = next;
        this.metrics = metrics;
    }

    /** Completes once the message is committed (or found to be a duplicate); only then may the caller acknowledge. */
    public CompletableFuture<AppendResult> accept(InboundMessage message) {
        return journal.append(message).thenApply(result -> {
            committed(message, result);
            return result;
        });
    }

    /**
     * Commits {@code messages} and the channel's {@code cursor} together (a polling channel's batch), then
     * hands on each one that was not a duplicate, in order. Completes once committed: only then may the
     * channel confirm its position to the platform.
     */
    public CompletableFuture<List<AppendResult>> acceptAll(List<InboundMessage> messages, ChannelCursor cursor) {
        return journal.appendAll(messages, cursor).thenApply(results -> {
            for (int i = 0; i < results.size(); i++) {
                committed(messages.get(i), results.get(i));
            }
            return results;
        });
    }

    /** Whether this gateway polls the channel's account; see {@link Journal#polls}. */
    public boolean polls(String channel, String account) {
        return journal.polls(channel, account);
    }

    /** The position {@link #acceptAll} stored last for the channel's account. */
    public Optional<String> cursor(String channel, String account) {
        return journal.cursor(channel, account);
    }

    /** Counts a committed append and hands the message on unless it was a duplicate. */
    private void committed(InboundMessage message, AppendResult result) {
        if (result.duplicate()) {
            counter(duplicates, "ferry.inbound.duplicates",
                    "Messages found in the journal already, answered as duplicates", message.channel()).increment();
        } else {
            counter(accepted, "ferry.inbound.accepted", "Messages committed to the journal and acknowledged",
                    message.channel()).increment();
            InboundMessage journaled = message.withSeq(result.seq());
            // On a shared journal the gateway that holds the session is handed the message instead.
            if (journal.runsHere(journaled)) {
                handOn(journaled);
            }
        }
    }

    private void handOn(InboundMessage journaled) {
        try {
            next.accept(journaled);
        } catch (RuntimeException e) {
            // Committed is accepted: the platform gets its acknowledgement and a restart replays the message.
            log.error("could not hand on journaled message seq={} channel={}", journaled.seq(), journaled.channel(), e);
        }
    }

    /** Meters are looked up once per channel: a registry lookup on every message would be hot-path work. */
    private Counter counter(Map<String, Counter> byChannel, String name, String description, String channel) {
        return byChannel.computeIfAbsent(channel, key -> Counter.builder(name).tag("channel", key)
                .description(description).register(metrics));
    }
}
