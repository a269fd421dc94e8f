package dev.ferry.bench;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import dev.ferry.debounce.DebounceSettings;
import dev.ferry.debounce.DebouncerRegistry;
import dev.ferry.debounce.InboundDebouncer;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.journal.InboundMessage;
import dev.ferry.time.SystemScheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The inbound debouncer on its own: how many messages a second it takes, and what it adds to a
 * message's way when the window is 0 (the hand-off is then synchronous, so the time of
 * {@code submit} is the added latency). Messages rotate over {@code keys} debounce keys.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgs = {"-XX:+UseSerialGC"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class DebouncerBenchmark {

    @Param({"0", "300"})
    public long windowMs;

    @Param({"1024"})
    public int keys;

    private SystemScheduler scheduler;
    private InboundDebouncer debouncer;
    private InboundMessage[] messages;
    private final LongAdder handedOn = new LongAdder();

    @Setup(Level.Trial)
    public void start() {
        scheduler = new SystemScheduler("bench-timer");
        var settings = new DebounceSettings(Duration.ofMillis(windowMs), Duration.ofMillis(windowMs * 5), 50, 4096);
        debouncer = new InboundDebouncer("webhook", settings, message -> false, batch -> handedOn.add(batch.messages().size()),
                scheduler, RetryPolicy.DEFAULT, new DebouncerRegistry(scheduler), new SimpleMeterRegistry());
        messages = new InboundMessage[keys];
        for (int i = 0; i < keys; i++) {
            messages[i] = new InboundMessage(i + 1, "webhook", "default", "conv-" + (i % 64), "sender-" + i,
                    "m-" + i, "hello from " + i, null, null, List.of(), 0);
        }
    }

    @TearDown(Level.Trial)
    public void stop() {
        debouncer.close();
        scheduler.close();
    }

    /** Per thread, a cursor over the keys so threads do not contend on one counter. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(2)
    public void throughputTwoThreads(Cursor cursor) {
        debouncer.submit(messages[cursor.next++ & (keys - 1)]);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void submitLatency(Cursor cursor) {
        debouncer.submit(messages[cursor.next++ & (keys - 1)]);
    }
}
