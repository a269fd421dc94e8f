package dev.ferry.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayProcess;
import dev.ferry.testing.ReplySink;

/**
 * Reload latency of the real gateway process: from SIGUSR1 to the gateway serving the next generation
 * (observed as /healthz reporting it), with idle queues and with 1,000 messages held in debounce
 * buffers; and how long intake acknowledgements take while reloads run, next to the same client's
 * acknowledgements between reloads. Prints medians; asserts nothing.
 */
public final class ReloadBenchmark {

    private static final boolean SMOKE = !System.getProperty("smoke", "").isEmpty();
    private static final int RUNS = Integer.getInteger("runs", 7);
    /** The paced intake load the reloads run under, messages per second. */
    private static final int RATE = Integer.getInteger("rate", SMOKE ? 200 : 1_000);
    /** Ten reloads a minute; a smoke pass does one. */
    private static final int RELOADS = SMOKE ? 1 : 10;
    private static final long PERIOD_MS = SMOKE ? 2_000 : 6_000;
    /** The run's output directory for bench/run.sh, or empty. */
    private static final String OUT = System.getProperty("out", "");
    private static final int BUFFERED = 1_000;

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("ferry-reload-bench");
        try (ReplySink sink = new ReplySink()) {
            Path config = dir.resolve("ferry.json5");
            Files.writeString(config, "{ gateway: { port: 0 }, state: { dir: \"" + dir.resolve("state") + "\" },"
                    + " messages: { inbound: { debounceMs: 600000, maxTrackedKeys: 4096 } },"
                    + " channels: { webhook: { replyUrl: \"" + sink.url() + "\" } } }");
            try (GatewayProcess gateway = GatewayProcess.start("gateway", "--config", config.toString())) {
                var client = new GatewayClient(gateway.awaitReady(Duration.ofSeconds(60)), null);
                long pid = gateway.process().pid();
                warmUp(client, pid);

                List<Double> idle = new ArrayList<>();
                for (int i = 0; i < RUNS; i++) {
                    idle.add(reloadMillis(client, pid));
                }
                List<Double> buffered = new ArrayList<>();
                List<Double> delivered = new ArrayList<>();
                int sent = 0;
                for (int i = 0; i < RUNS; i++) {
                    for (int m = 0; m < BUFFERED; m++) {
                        client.webhookMessage("b" + i + "-" + m, "room-" + (m % 50), "sender-" + m, "buffered " + m);
                    }
                    sent += BUFFERED;
                    long start = System.nanoTime();
                    buffered.add(reloadMillis(client, pid));
                    int expected = sent;
                    // Collect mode merges a room's queued messages, so count answered messages, not replies.
                    while (answeredMessages(sink) < expected) {
                        Thread.sleep(2);
                    }
                    delivered.add((System.nanoTime() - start) / 1e6);
                }
                PacedIntake load = PacedIntake.start(client, RATE);
                load.awaitSettled();
                // Ten reloads a minute: one every six seconds. An ack counts as during a reload when its planned
                // send time falls from the signal to a second after the new generation serves.
                List<Double> underLoad = new ArrayList<>();
                for (int i = 0; i < RELOADS; i++) {
                    Thread.sleep(PERIOD_MS / 2);
                    long signalled = System.nanoTime();
                    underLoad.add(reloadMillis(client, pid));
                    load.markReload(signalled, System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
                    Thread.sleep(PERIOD_MS / 2);
                }
                PacedIntake.Split split = load.stop();
                System.out.printf("Ferry reload latency (SIGUSR1 -> /healthz shows the new generation), %d runs each, %d cores%n",
                        RUNS, Runtime.getRuntime().availableProcessors());
                System.out.printf("  idle queues:               median %.1f ms  (runs: %s)%n", median(idle), rounded(idle));
                System.out.printf("  1,000 buffered messages:   median %.1f ms  (runs: %s)%n", median(buffered), rounded(buffered));
                System.out.printf("    ... until all 1,000 messages were answered at the sink: median %.1f ms%n", median(delivered));
                System.out.printf("  under %d msg/s of intake:   median %.1f ms  (runs: %s)%n", RATE, median(underLoad), rounded(underLoad));
                System.out.printf("Intake at %d msg/s, paced, with %d reloads %d s apart (latency from each send's planned time):%n",
                        RATE, RELOADS, PERIOD_MS / 1000);
                System.out.printf("  ack latency between reloads: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d acks)%n",
                        split.between().percentile(50), split.between().percentile(99), split.between().percentile(100),
                        split.between().count());
                System.out.printf("  ack latency during reloads:  p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d acks)%n",
                        split.during().percentile(50), split.during().percentile(99), split.during().percentile(100),
                        split.during().count());
                System.out.printf("  non-2xx answers or failed sends: %d%n", split.refused());
                if (!OUT.isEmpty()) {
                    record("reload.latency", median(underLoad), underLoad, "ms");
                    record("reload.idle.latency", median(idle), idle, "ms");
                    record("reload.buffered.latency", median(buffered), buffered, "ms");
                    record("reload.between.p50", split.between().percentile(50), null, "ms");
                    record("reload.between.p99", split.between().percentile(99), null, "ms");
                    record("reload.during.p50", split.during().percentile(50), null, "ms");
                    record("reload.during.p99", split.during().percentile(99), null, "ms");
                    record("reload.refused", split.refused(), null, "count");
                    record("reload.reloads", RELOADS, null, "count");
                }
            }
        }
    }

    /** Appends one figure to the run's figures.tsv: the median, and the spread of {@code runs} when given. */
    private static void record(String id, double median, List<Double> runs, String unit) throws java.io.IOException {
        double min = runs == null ? median : Collections.min(runs);
        double max = runs == null ? median : Collections.max(runs);
        int n = runs == null ? 1 : runs.size();
        Files.writeString(Path.of(OUT, "figures.tsv"), String.format(java.util.Locale.ROOT, "%s\t%.3f\t%.3f\t%.3f\t%d\t%s%n",
                id, median, min, max, n, unit), java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    private static int answeredMessages(ReplySink sink) {
        return sink.accepted().stream().mapToInt(reply -> reply.body().get("inReplyTo").size()).sum();
    }

    private static void warmUp(GatewayClient client, long pid) throws Exception {
        for (int i = 0; i < 3; i++) {
            reloadMillis(client, pid);
        }
    }

    /** Sends SIGUSR1 and returns the milliseconds until /healthz reports the next generation. */
    private static double reloadMillis(GatewayClient client, long pid) throws Exception {
        long before = client.get("/healthz", null).body().get("generation").asLong();
        long start = System.nanoTime();
        Process kill = new ProcessBuilder("kill", "-USR1", Long.toString(pid)).start();
        kill.waitFor(10, TimeUnit.SECONDS);
        while (client.get("/healthz", null).body().get("generation").asLong() <= before) {
            Thread.onSpinWait();
        }
        return (System.nanoTime() - start) / 1e6;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static String rounded(List<Double> values) {
        return values.stream().map(v -> String.format("%.0f", v)).toList().toString();
    }

    /**
     * Webhook messages at a fixed rate, planned on one clock and sent by a few threads, each ack's latency
     * counted from its planned time so that a stall shows in full (no coordinated omission). Each sample is
     * kept with its planned time and sorted afterwards into during and between reloads.
     */
    private static final class PacedIntake {
        private static final int SENDERS = 8;
        private final GatewayClient client;
        private final long origin = System.nanoTime();
        private final long periodNanos;
        private final java.util.concurrent.atomic.AtomicLong next = new java.util.concurrent.atomic.AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<long[]> samples = Collections.synchronizedList(new ArrayList<>());
        private final List<long[]> reloads = Collections.synchronizedList(new ArrayList<>());
        private final java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
        private final List<Thread> threads = new ArrayList<>();
        private volatile long countFrom = Long.MAX_VALUE;

        private PacedIntake(GatewayClient client, int rate) {
            this.client = client;
            this.periodNanos = 1_000_000_000L / rate;
        }

        static PacedIntake start(GatewayClient client, int rate) {
            PacedIntake load = new PacedIntake(client, rate);
            for (int i = 0; i < SENDERS; i++) {
                Thread thread = new Thread(load::send, "paced-intake-" + i);
                load.threads.add(thread);
                thread.start();
            }
            return load;
        }

        /** Lets the load run for a few seconds uncounted, so the JIT and the connections have settled. */
        void awaitSettled() throws InterruptedException {
            Thread.sleep(SMOKE ? 500 : 5_000);
            countFrom = System.nanoTime();
        }

        void markReload(long fromNanos, long toNanos) {
            reloads.add(new long[] {fromNanos, toNanos});
        }

        private void send() {
            while (running.get()) {
                long i = next.getAndIncrement();
                long planned = origin + i * periodNanos;
                long wait = planned - System.nanoTime();
                if (wait > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                }
                try {
                    var answer = client.webhookMessage("p-" + i, "probe-" + (i % 200), "probe", "probe " + i);
                    if (answer.status() / 100 != 2) {
                        refused.incrementAndGet();
                    }
                } catch (RuntimeException e) {
                    refused.incrementAndGet();
                }
                if (planned >= countFrom) {
                    samples.add(new long[] {planned, System.nanoTime() - planned});
                }
            }
        }

        record Latencies(List<Double> sortedMillis) {
            int count() {
                return sortedMillis.size();
            }

            double percentile(double p) {
                if (sortedMillis.isEmpty()) {
                    return Double.NaN;
                }
                int index = (int) Math.ceil(p / 100.0 * sortedMillis.size()) - 1;
                return sortedMillis.get(Math.max(0, Math.min(index, sortedMillis.size() - 1)));
            }
        }

        record Split(Latencies between, Latencies during, int refused) {}

        Split stop() throws InterruptedException {
            running.set(false);
            for (Thread thread : threads) {
                thread.join();
            }
            List<Double> between = new ArrayList<>();
            List<Double> during = new ArrayList<>();
            synchronized (samples) {
                for (long[] sample : samples) {
                    boolean inReload = reloads.stream().anyMatch(r -> sample[0] >= r[0] && sample[0] <= r[1]);
                    (inReload ? during : between).add(sample[1] / 1e6);
                }
            }
            Collections.sort(between);
            Collections.sort(during);
            return new Split(new Latencies(between), new Latencies(during), refused.get());
        }
    }
}
