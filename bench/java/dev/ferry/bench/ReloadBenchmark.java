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

    private static final int RUNS = Integer.getInteger("runs", 7);
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
                IntakeProbe probe = IntakeProbe.start(client);
                probe.awaitSamples(300);
                List<Double> during = new ArrayList<>();
                for (int i = 0; i < RUNS; i++) {
                    probe.mark(true);
                    reloadMillis(client, pid);
                    probe.mark(false);
                    probe.awaitSamples(100);
                }
                probe.stop();
                System.out.printf("Ferry reload latency (SIGUSR1 -> /healthz shows the new generation), %d runs each, %d cores%n",
                        RUNS, Runtime.getRuntime().availableProcessors());
                System.out.printf("  idle queues:               median %.1f ms  (runs: %s)%n", median(idle), rounded(idle));
                System.out.printf("  1,000 buffered messages:   median %.1f ms  (runs: %s)%n", median(buffered), rounded(buffered));
                System.out.printf("    ... until all 1,000 messages were answered at the sink: median %.1f ms%n", median(delivered));
                System.out.printf("Intake while reloading (one keep-alive client posting back to back):%n");
                System.out.printf("  ack latency between reloads: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d acks)%n",
                        probe.percentile(false, 50), probe.percentile(false, 99), probe.percentile(false, 100), probe.count(false));
                System.out.printf("  ack latency during reloads:  p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d acks)%n",
                        probe.percentile(true, 50), probe.percentile(true, 99), probe.percentile(true, 100), probe.count(true));
                System.out.printf("  non-2xx answers: %d%n", probe.refused());
            }
        }
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

    /** Posts messages back to back on one connection, sorting each ack's latency by whether a reload was running. */
    private static final class IntakeProbe {
        private final GatewayClient client;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private volatile boolean reloading;
        private final List<Double> between = Collections.synchronizedList(new ArrayList<>());
        private final List<Double> during = Collections.synchronizedList(new ArrayList<>());
        private volatile int refused;
        private Thread thread;

        private IntakeProbe(GatewayClient client) {
            this.client = client;
        }

        static IntakeProbe start(GatewayClient client) {
            IntakeProbe probe = new IntakeProbe(client);
            probe.thread = new Thread(probe::run, "intake-probe");
            probe.thread.start();
            return probe;
        }

        private void run() {
            int i = 0;
            while (running.get()) {
                boolean whileReloading = reloading;
                long start = System.nanoTime();
                var answer = client.webhookMessage("p-" + i, "probe", "probe-" + (i % 20), "probe " + i);
                double ms = (System.nanoTime() - start) / 1e6;
                if (answer.status() / 100 != 2) {
                    refused++;
                }
                (whileReloading || reloading ? during : between).add(ms);
                i++;
            }
        }

        void mark(boolean nowReloading) {
            reloading = nowReloading;
        }

        void awaitSamples(int more) throws InterruptedException {
            int target = between.size() + more;
            while (between.size() < target) {
                Thread.sleep(1);
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }

        int count(boolean duringReload) {
            return (duringReload ? during : between).size();
        }

        int refused() {
            return refused;
        }

        double percentile(boolean duringReload, int p) {
            List<Double> sorted = new ArrayList<>(duringReload ? during : between);
            if (sorted.isEmpty()) {
                return Double.NaN;
            }
            Collections.sort(sorted);
            int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
            return sorted.get(Math.max(0, Math.min(index, sorted.size() - 1)));
        }
    }
}
