package dev.ferry.debounce;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.delivery.RetryPolicy;
import dev.ferry.journal.InboundMessage;
import dev.ferry.time.Scheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Merges each debounce key's burst into one batch (SPEC 3.1): trailing-edge window, bounded by
 * {@code maxWait} and {@code maxBatch}; media, empty text and whatever the bypass rule it is handed says
 * goes at once (chat commands) bypass it after flushing their key. Per key, batches are handed on in arrival order, one at a time, even while an earlier hand-off
 * is still running or waiting for a retry; distinct keys never wait for each other.
 * Thread-safe; buffers and lanes are guarded by {@code lock}; the handler is called outside it.
 */
public final class InboundDebouncer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InboundDebouncer.class);

    private final String name;
    /** What a later stage needs alone and at once, beyond media and empty text: the chat commands. */
    private final Predicate<InboundMessage> goesAtOnce;
    private final BatchHandler handler;
    private final Scheduler scheduler;
    private final RetryPolicy retryPolicy;
    private final DebouncerRegistry registry;
    private final MeterRegistry metrics;
    private final Gauge bufferedGauge;
    private final Map<FlushReason, Counter> flushes = new EnumMap<>(FlushReason.class);
    private volatile DebounceSettings settings;

    private final Object lock = new Object();
    /** Messages waiting for their window, per debounce key. */
    @GuardedBy("lock")
    private final Map<String, Buffer> buffers = new LinkedHashMap<>();
    /** Flushed batches not yet taken by the handler, per debounce key. */
    @GuardedBy("lock")
    private final Map<String, Lane> lanes = new HashMap<>();
    @GuardedBy("lock")
    private boolean closed;

    /** A key's pending burst. Guarded by the debouncer's lock. */
    private static final class Buffer {
        final List<InboundMessage> messages = new ArrayList<>();
        final long firstAtMillis;
        long lastAtMillis;
        /** When the burst is due to leave, as its latest message left it. */
        long dueAtMillis;
        /** The one live timer, and when it fires; it may fire before the burst is due, and then sets itself again. */
        Scheduler.Cancellable timer;
        long timerAtMillis;
        /** Tells the live timer from one cancelled too late to stop it firing. */
        int timerGeneration;

        Buffer(long now) {
            this.firstAtMillis = now;
            this.lastAtMillis = now;
        }
    }

    /** A key's batches on their way out; only the thread that set {@code handingOn} calls the handler. */
    private static final class Lane {
        final String key;
        final ArrayDeque<InboundBatch> batches = new ArrayDeque<>();
        boolean handingOn;
        int failures;

        Lane(String key) {
            this.key = key;
        }
    }

    /**
     * Creates the debouncer and registers it; {@link #close()} is the only way out of the registry.
     *
     * @param goesAtOnce the bypass rule: true for a message that must not wait in a window (a chat
     *                   command); media and empty text always bypass
     */
    public InboundDebouncer(String name, DebounceSettings settings, Predicate<InboundMessage> goesAtOnce,
                            BatchHandler handler, Scheduler scheduler, RetryPolicy retryPolicy,
                            DebouncerRegistry registry, MeterRegistry metrics) {
        this.name = name;
        this.settings = settings;
        this.goesAtOnce = goesAtOnce;
        this.handler = handler;
        this.scheduler = scheduler;
        this.retryPolicy = retryPolicy;
        this.registry = registry;
        this.metrics = metrics;
        this.bufferedGauge = Gauge.builder("ferry.debounce.buffered.keys", this, InboundDebouncer::bufferedKeys)
                .tag("channel", name).description("Debounce keys holding a batch in their window now")
                .register(metrics);
        for (FlushReason reason : FlushReason.values()) {
            flushes.put(reason, Counter.builder("ferry.debounce.flushes").tag("channel", name)
                    .tag("reason", reason.tag())
                    .description("Batches the inbound debouncer handed on, by why it flushed").register(metrics));
        }
        registry.register(this);
    }

    /** The debounce key of SPEC section 1: the messages that may be merged into one. */
    public static String debounceKey(InboundMessage message) {
        return message.channel() + ":" + message.account() + ":" + message.conversation() + ":" + message.sender();
    }

    /** Takes a journaled message; it leaves in a batch now or when its key's window closes. */
    public void submit(InboundMessage message) {
        String key = debounceKey(message);
        DebounceSettings current = settings;
        List<Lane> toStart = new ArrayList<>(2);
        synchronized (lock) {
            if (bypasses(message)) {
                flushBuffered(key, FlushReason.BYPASS, toStart);
                enqueue(key, List.of(message), FlushReason.BYPASS, toStart);
            } else if (current.isOff() || closed
                    || (!buffers.containsKey(key) && buffers.size() >= current.maxTrackedKeys())) {
                // A window turned off by a reload may leave the key buffered: those messages go first.
                flushBuffered(key, FlushReason.IMMEDIATE, toStart);
                enqueue(key, List.of(message), FlushReason.IMMEDIATE, toStart);
            } else {
                buffer(key, message, current, toStart);
            }
        }
        toStart.forEach(this::handOn);
    }

    /** Hands on every buffered key now; returns how many buffers with messages it flushed. */
    public int flushAll() {
        List<Lane> toStart = new ArrayList<>();
        int flushed;
        synchronized (lock) {
            flushed = buffers.size();
            for (Map.Entry<String, Buffer> entry : buffers.entrySet()) {
                Buffer buffer = entry.getValue();
                if (buffer.timer != null) {
                    buffer.timer.cancel();
                }
                enqueue(entry.getKey(), buffer.messages, FlushReason.FLUSH_ALL, toStart);
            }
            buffers.clear();
        }
        toStart.forEach(this::handOn);
        return flushed;
    }

    /** Applies new bounds to messages from now on; what is buffered keeps the timer it has. */
    public void useSettings(DebounceSettings newSettings) {
        this.settings = newSettings;
    }

    public int bufferedKeys() {
        synchronized (lock) {
            return buffers.size();
        }
    }

    public int undeliveredBatches() {
        synchronized (lock) {
            return lanes.values().stream().mapToInt(lane -> lane.batches.size()).sum();
        }
    }

    /**
     * Flushes what is buffered and leaves the registry. Later messages pass straight through, so a
     * message that races the close is still handed on rather than stranded.
     */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
        }
        flushAll();
        registry.deregister(this);
        metrics.remove(bufferedGauge);
        flushes.values().forEach(metrics::remove);
    }

    private boolean bypasses(InboundMessage message) {
        return message.hasMedia() || message.text() == null || message.text().isBlank() || goesAtOnce.test(message);
    }

    @GuardedBy("lock")
    private void buffer(String key, InboundMessage message, DebounceSettings current, List<Lane> toStart) {
        long now = scheduler.nowMillis();
        Buffer buffer = buffers.computeIfAbsent(key, k -> new Buffer(now));
        buffer.messages.add(message);
        buffer.lastAtMillis = now;
        if (buffer.messages.size() >= current.maxBatch()) {
            flushBuffered(key, FlushReason.MAX_BATCH, toStart);
            return;
        }
        long windowEnd = now + current.window().toMillis();
        long hardEnd = buffer.firstAtMillis + current.maxWait().toMillis();
        buffer.dueAtMillis = Math.min(windowEnd, Math.max(hardEnd, now));
        // A message usually moves the flush later: the timer that is set stays and re-arms when it fires,
        // which spares a cancel and a schedule on every message of a burst.
        if (buffer.timer == null || buffer.dueAtMillis < buffer.timerAtMillis) {
            if (buffer.timer != null) {
                buffer.timer.cancel();
            }
            arm(key, buffer, now);
        }
    }

    /** Sends the key's buffered burst, if any, ahead of whatever comes next. */
    @GuardedBy("lock")
    private void flushBuffered(String key, FlushReason reason, List<Lane> toStart) {
        Buffer pending = buffers.remove(key);
        if (pending != null) {
            if (pending.timer != null) {   // none yet when the first message already fills the batch
                pending.timer.cancel();
            }
            enqueue(key, pending.messages, reason, toStart);
        }
    }

    @GuardedBy("lock")
    private void arm(String key, Buffer buffer, long now) {
        int generation = ++buffer.timerGeneration;
        buffer.timerAtMillis = buffer.dueAtMillis;
        buffer.timer = scheduler.schedule(Duration.ofMillis(buffer.dueAtMillis - now), () -> onTimer(key, buffer, generation));
    }

    private void onTimer(String key, Buffer buffer, int generation) {
        List<Lane> toStart = new ArrayList<>(1);
        synchronized (lock) {
            // A cancelled timer may still fire once; only the buffer's live timer may flush it.
            if (buffers.get(key) != buffer || buffer.timerGeneration != generation) {
                return;
            }
            long now = scheduler.nowMillis();
            if (now < buffer.dueAtMillis) {
                arm(key, buffer, now);
                return;
            }
            buffers.remove(key);
            boolean windowStillOpen = scheduler.nowMillis() < buffer.lastAtMillis + settings.window().toMillis();
            enqueue(key, buffer.messages, windowStillOpen ? FlushReason.MAX_WAIT : FlushReason.TIMER, toStart);
        }
        toStart.forEach(this::handOn);
    }

    /** Adds a batch to the key's lane; a lane that was idle is returned for starting. */
    @GuardedBy("lock")
    private void enqueue(String key, List<InboundMessage> messages, FlushReason reason, List<Lane> toStart) {
        Lane lane = lanes.computeIfAbsent(key, Lane::new);
        lane.batches.addLast(new InboundBatch(key, messages, reason));
        flushes.get(reason).increment();
        if (!lane.handingOn) {
            lane.handingOn = true;
            toStart.add(lane);
        }
    }

    /** Hands the lane's batches on in order until it is empty or one fails; a failure schedules a retry. */
    private void handOn(Lane lane) {
        while (true) {
            InboundBatch batch;
            synchronized (lock) {
                batch = lane.batches.peekFirst();
                if (batch == null) {
                    lane.handingOn = false;
                    lanes.remove(lane.key);
                    break;
                }
            }
            try {
                handler.deliver(batch);
            } catch (Exception e) {
                int failures;
                synchronized (lock) {
                    failures = ++lane.failures;
                }
                Duration delay = retryPolicy.delayAfter(failures);
                log.warn("debounced batch hand-off failed channel={} key={} messages={} attempt={} retryInMs={} reason={}",
                        name, lane.key, batch.messages().size(), failures, delay.toMillis(), e.toString());
                scheduler.schedule(delay, () -> handOn(lane));
                return;
            }
            synchronized (lock) {
                lane.batches.removeFirst();
                lane.failures = 0;
            }
        }
        // Waiters wait for every lane to empty, so only an emptied lane is progress worth a wake-up.
        registry.signalProgress();
    }
}
