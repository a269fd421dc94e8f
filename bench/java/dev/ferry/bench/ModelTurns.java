package dev.ferry.bench;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;

import dev.ferry.testing.GatewayProcess;

/**
 * Turns through the openai backend against a model server that answers at once, end to end: webhook POST
 * in, the gateway's turn calls the model (streaming, four SSE chunks), the reply is POSTed to a sink here.
 * Phase one keeps one message in flight per session (a user waiting for each answer) and counts sustained
 * turns per second. Phase two paces messages at half that rate across the same sessions and records, for
 * each turn, the time from the webhook POST to the reply at the sink minus the model server's own time
 * for that turn: what Ferry adds (its journal commits with sync=full, queueing, HTTP both ways).
 * Run by bench/model.sh: java -cp BENCH_CLASSPATH dev.ferry.bench.ModelTurns JAR WORKDIR SESSIONS SECONDS
 */
public final class ModelTurns {
    /** Per message id: when the webhook POST was sent, and when its reply reached the sink (nanoTime). */
    private static final Map<String, long[]> TIMES = new ConcurrentHashMap<>();
    /** Per conversation: the model server's own time for its last request (ns), by the prompt's message id. */
    private static final Map<String, Long> MODEL_NANOS = new ConcurrentHashMap<>();
    private static final Map<String, Runnable> ON_REPLY = new ConcurrentHashMap<>();
    private static final AtomicLong MODEL_CALLS = new AtomicLong();
    /** Paced messages whose reply never reached the sink. */
    private static final AtomicLong DROPPED = new AtomicLong();
    /** The percentiles of the latency spectrum written for the picture, HdrHistogram style. */
    private static final double[] SPECTRUM = {0.001, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96.875, 98, 99,
            99.5, 99.75, 99.9, 99.95, 99.99, 100};

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args[0]);
        Path work = Path.of(args[1]);
        int sessions = Integer.parseInt(args[2]);
        int seconds = Integer.parseInt(args[3]);
        // "echo" runs the same load without the model call: what the rest of the pipeline costs alone.
        String backend = args.length > 4 ? args[4] : "openai";

        Server model = Loopback.serve(new ModelHandler());
        Server sink = Loopback.serve(new ReplySinkHandler(ModelTurns::replied));
        int gatewayPort = GatewayProcess.freePort();
        Path config = work.resolve("ferry.json5");
        Files.writeString(config, """
                { gateway: { port: %d }, state: { dir: "%s" },
                  agent: { backend: "%s", maxConcurrent: 64, historyTurns: 2,
                           openai: { baseUrl: "http://127.0.0.1:%d/v1", model: "bench", apiKeyEnv: "FERRY_BENCH_NO_KEY" } },
                  channels: { webhook: { replyUrl: "http://127.0.0.1:%d/replies", maxConcurrentSends: 64 } },
                  messages: { queue: { mode: "followup", debounceMs: 0 } } }
                """.formatted(gatewayPort, work.resolve("state"), backend, Loopback.port(model), Loopback.port(sink)));
        // The launcher's flags, which bench/lib.sh reads from it.
        List<String> command = new ArrayList<>(List.of("java"));
        command.addAll(List.of(System.getenv().getOrDefault("FERRY_BENCH_JVM_FLAGS", "-XX:+UseSerialGC").trim().split("\\s+")));
        String extra = System.getenv("FERRY_BENCH_GATEWAY_OPTS");   // e.g. a flight recording, to look into a figure
        if (extra != null && !extra.isBlank()) {
            command.addAll(List.of(extra.trim().split("\\s+")));
        }
        command.addAll(List.of("-jar", jar.toString(), "gateway", "--config", config.toString()));
        Process gateway = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(work.resolve("gateway.log").toFile()).start();
        try {
            HttpClient http = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(2)).build();
            WebhookSender.awaitHealthy(gatewayPort, gateway, Duration.ofSeconds(30));
            // Sixteen connections: a message waits here for a free one with its clock already running.
            WebhookSender sender = new WebhookSender(gatewayPort, 16, (id, status) -> TIMES.get(id)[2] = System.nanoTime());

            // JIT and connection warm-up, not counted: on two cores the compiler threads take a third of a core
            // or more for the first half minute, competing with the gateway and this harness.
            closedLoop(sender, sessions, setting("FERRY_BENCH_WARM_S", 30), "warm");
            CpuUse closedCpu = CpuUse.from(gateway);
            double rate = closedLoop(sender, sessions, seconds, "closed");
            closedCpu.print("closed loop", gateway);
            System.out.printf("sustained: %.0f turns/s over %d sessions, one message in flight per session (%d s)%n",
                    rate, sessions, seconds);
            // A rate of one's own shows the added latency against load; half the sustained rate is the target's.
            double pacedRate = setting("FERRY_BENCH_RATE", rate / 2);
            CpuUse pacedCpu = CpuUse.from(gateway);
            List<Long> added = paced(sender, sessions, pacedRate, setting("FERRY_BENCH_PACED_S", seconds));
            pacedCpu.print("paced", gateway);
            long[] sorted = added.stream().mapToLong(Long::longValue).sorted().toArray();
            System.out.printf("at %.0f turns/s (%.0f%% of that): %d turns, Ferry adds p50 %.2f ms, p99 %.2f ms,"
                    + " p99.9 %.2f ms, max %.2f ms over the model server's own time%n", pacedRate, 100 * pacedRate / rate,
                    sorted.length, ms(pct(sorted, 50)), ms(pct(sorted, 99)), ms(pct(sorted, 99.9)),
                    ms(sorted[sorted.length - 1]));
            // For bench/model.sh: one line per figure, and the paced latencies' spectrum for the picture.
            System.out.printf(Locale.ROOT, "RESULT sustained %.1f%nRESULT rate %.1f%nRESULT p50 %.3f%nRESULT p99 %.3f%n"
                    + "RESULT p999 %.3f%nRESULT max %.3f%nRESULT dropped %d%n", rate, pacedRate, ms(pct(sorted, 50)),
                    ms(pct(sorted, 99)), ms(pct(sorted, 99.9)), ms(sorted[sorted.length - 1]), DROPPED.get());
            StringBuilder spectrum = new StringBuilder();
            for (double p : SPECTRUM) {
                spectrum.append(String.format(Locale.ROOT, "%s\t%.3f%n", BigDecimal.valueOf(p).stripTrailingZeros()
                        .toPlainString(), ms(pct(sorted, p))));
            }
            Files.writeString(work.resolve("spectrum.tsv"), spectrum);
            System.out.printf("model calls: %d%n", MODEL_CALLS.get());
            if (System.getenv("FERRY_BENCH_METRICS") != null) {
                // The gateway's own account of where the time went, for looking into a figure.
                Files.writeString(work.resolve("metrics.txt"), http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gatewayPort + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
                System.out.println("metrics: " + work.resolve("metrics.txt"));
            }
        } finally {
            gateway.destroy();
            gateway.waitFor(10, TimeUnit.SECONDS);
            model.stop();
            sink.stop();
        }
        // The client's and the pacer's threads would keep the JVM up.
        System.exit(0);
    }

    private static int setting(String name, int otherwise) {
        return (int) setting(name, (double) otherwise);
    }

    private static double setting(String name, double otherwise) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? otherwise : Double.parseDouble(value);
    }

    /** CPU time used by the gateway and by this harness (with its model server and sink) over a phase. */
    private record CpuUse(long startNanos, long gatewayCpuNanos, long harnessCpuNanos) {
        static CpuUse from(Process gateway) {
            return new CpuUse(System.nanoTime(), cpuOf(gateway.toHandle()), cpuOf(ProcessHandle.current()));
        }

        void print(String phase, Process gateway) {
            double wall = System.nanoTime() - startNanos;
            System.out.printf("  CPU during the %s phase: gateway %.0f%% of one core, harness %.0f%%%n", phase,
                    100 * (cpuOf(gateway.toHandle()) - gatewayCpuNanos) / wall,
                    100 * (cpuOf(ProcessHandle.current()) - harnessCpuNanos) / wall);
        }

        private static long cpuOf(ProcessHandle process) {
            return process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
        }
    }

    /** Each session sends its next message when the reply to its last arrives; answers turns per second. */
    private static double closedLoop(WebhookSender sender, int sessions, int seconds, String tag)
            throws InterruptedException {
        return ClosedLoop.repliesPerSecond(sessions, seconds, tag, ON_REPLY,
                (conversation, id) -> post(sender, conversation, id, System.nanoTime()), 60);
    }

    /** Messages at {@code rate} per second, round robin over the sessions; answers each turn's added time. */
    private static List<Long> paced(WebhookSender sender, int sessions, double rate, int seconds)
            throws InterruptedException {
        int total = (int) (rate * seconds);
        CountDownLatch done = new CountDownLatch(total);
        List<String> ids = new ArrayList<>();
        ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
        long periodNanos = (long) (1e9 / rate);
        // Every send has a planned time from one origin, and its latency counts from that time: a pacer or
        // a sender that falls behind shows in the figures instead of hiding (no coordinated omission).
        long origin = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
        for (int i = 0; i < total; i++) {
            String conversation = "paced-" + (i % sessions);
            String id = conversation + "-" + i;
            ids.add(id);
            ON_REPLY.put(id, done::countDown);
            long planned = origin + i * periodNanos;
            pacer.schedule(() -> post(sender, conversation, id, planned), planned - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
        if (!done.await(seconds + 30L, TimeUnit.SECONDS)) {
            DROPPED.set(done.getCount());
            System.out.printf("  %d paced messages had no reply 30 s after the last was sent%n", done.getCount());
        }
        pacer.shutdown();
        List<Long> added = new ArrayList<>();
        long[] acks = new long[ids.size() - (int) DROPPED.get()];
        int i = 0;
        for (String id : ids) {
            long[] t = TIMES.get(id);
            if (t[1] == 0) {
                continue;   // dropped: counted above
            }
            added.add(t[1] - t[0] - MODEL_NANOS.getOrDefault(id, 0L));
            acks[i++] = t[2] - t[0];
        }
        Arrays.sort(acks);
        System.out.printf("  of which the webhook's 202 (the journal commit of the message): p50 %.2f ms, p99 %.2f ms%n",
                ms(pct(acks, 50)), ms(pct(acks, 99)));
        return added;
    }

    /** Queues a message on the sender; its latency counts from {@code startNanos}, its planned send time. */
    private static void post(WebhookSender sender, String conversation, String id, long startNanos) {
        TIMES.put(id, new long[] {startNanos, 0, 0});
        sender.post(conversation, id);
    }

    /** An OpenAI-compatible server that streams four chunks at once; records its own time per request. */
    private static final class ModelHandler extends Handler.Abstract {
        private static final byte[] STREAM = ("data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n"
                + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok \"}}]}\n\n"
                + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"done\"}}]}\n\n"
                + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8);

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            long started = System.nanoTime();
            Content.Source.asStringAsync(request, StandardCharsets.UTF_8).whenComplete((body, failure) -> {
                String id = lastUserText(body);
                response.setStatus(200);
                response.getHeaders().put("Content-Type", "text/event-stream");
                response.write(true, ByteBuffer.wrap(STREAM), Callback.from(() -> {
                    MODEL_CALLS.incrementAndGet();
                    if (id != null) {
                        MODEL_NANOS.put(id, System.nanoTime() - started);
                    }
                    callback.succeeded();
                }, callback::failed));
            });
            return true;
        }

        /** The last message's content, found by search: a tree of the whole request per call cost the harness dear. */
        private static String lastUserText(String body) {
            int at = body == null ? -1 : body.lastIndexOf("\"content\":\"");
            if (at < 0) {
                return null;
            }
            int start = at + "\"content\":\"".length();
            int end = body.indexOf('"', start);
            return end < 0 ? null : body.substring(start, end);
        }
    }

    /** The webhook reply receiver: notes when each answered message's reply arrived. */
    /** A reply's arrival: the turn's time stops, and its session sends its next message. */
    private static void replied(String id, long nowNanos) {
        long[] t = TIMES.get(id);
        if (t != null) {
            t[1] = nowNanos;
        }
        Runnable then = ON_REPLY.remove(id);
        if (then != null) {
            then.run();
        }
    }

    private static long pct(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100 * sorted.length) - 1)];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
