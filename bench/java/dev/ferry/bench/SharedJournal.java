package dev.ferry.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.eclipse.jetty.server.Server;

import dev.ferry.testing.GatewayProcess;

/**
 * One engine setting of bench/shared.sh: GATEWAYS gateway processes on one journal (SQLite when no URL is
 * given, which allows one gateway; PostgreSQL otherwise), behind a round-robin sender, in two phases.
 *   intake: keep-alive connections spread evenly over the gateways post unique webhook messages as fast as
 *           each is acknowledged (after the durable commit), for SECONDS; the inbound debouncer holds every
 *           message, so only intake writes the journal. Acknowledgements per second.
 *   e2e:    the gateways restarted on an empty journal with the echo backend; SESSIONS sessions each keep one
 *           message in flight, every message to the next gateway in turn (so a session's messages land on
 *           gateways other than its holder, as behind a load balancer), for SECONDS. Replies per second.
 * Usage: java -cp BENCH_CLASSPATH dev.ferry.bench.SharedJournal JAR WORKDIR GATEWAYS SECONDS SESSIONS [JDBC_URL USER]
 * Prints "RESULT intake N" and "RESULT e2e N".
 */
public final class SharedJournal {
    private static final Map<String, Runnable> ON_REPLY = new ConcurrentHashMap<>();
    private static final int CONNECTIONS = 48;

    public static void main(String[] args) {
        try {
            run(args);
            System.exit(0);
        } catch (Exception e) {
            e.printStackTrace();
            // The sink's threads would keep the JVM up: a failed run must end.
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        Path jar = Path.of(args[0]);
        Path work = Path.of(args[1]);
        int gateways = Integer.parseInt(args[2]);
        int seconds = Integer.parseInt(args[3]);
        int sessions = Integer.parseInt(args[4]);
        String url = args.length > 5 ? args[5] : null;
        String user = args.length > 6 ? args[6] : null;
        int warm = Integer.parseInt(System.getenv().getOrDefault("FERRY_BENCH_WARM_S", "10"));

        List<Process> running = new ArrayList<>();
        try {
            int[] ports = start(jar, work.resolve("intake"), gateways, url == null ? null : url + "_intake", user,
                    "messages: { inbound: { debounceMs: 600000, maxBatch: 1000000, maxTrackedKeys: 1000000 } }", null, running);
            intake(ports, warm, "warm");
            double intake = intake(ports, seconds, "run");
            System.out.printf(Locale.ROOT, "intake: %.0f acknowledged messages/s over %d gateway(s), %d connections%n",
                    intake, gateways, CONNECTIONS);
            stop(running);

            Server sink = sink();
            ports = start(jar, work.resolve("e2e"), gateways, url == null ? null : url + "_e2e", user,
                    "messages: { queue: { mode: \"followup\", debounceMs: 0 } }, agent: { maxConcurrent: 64, historyTurns: 2 }",
                    Loopback.port(sink), running);
            WebhookSender[] senders = new WebhookSender[ports.length];
            for (int i = 0; i < ports.length; i++) {
                senders[i] = new WebhookSender(ports[i], CONNECTIONS / ports.length, (id, status) -> { });
            }
            closedLoop(senders, sessions, warm, "warm");
            double e2e = closedLoop(senders, sessions, seconds, "run");
            System.out.printf(Locale.ROOT, "e2e: %.0f replies/s over %d gateway(s), %d sessions with one message in flight%n",
                    e2e, gateways, sessions);
            System.out.printf(Locale.ROOT, "RESULT intake %.1f%nRESULT e2e %.1f%n", intake, e2e);
            stop(running);
            sink.stop();
        } finally {
            running.forEach(Process::destroyForcibly);
        }
    }

    /** Starts the gateways on their own state dirs (and, for PostgreSQL, one database); returns their ports. */
    private static int[] start(Path jar, Path work, int count, String url, String user, String messages, Integer sinkPort,
                               List<Process> running) throws Exception {
        if (url != null) {
            createDatabase(url, user);
        }
        int[] ports = new int[count];
        for (int i = 0; i < count; i++) {
            ports[i] = GatewayProcess.freePort();
            Path dir = work.resolve("gateway-" + i);
            Files.createDirectories(dir);
            String journal = url == null ? "" : "journal: { engine: \"postgres\", postgres: { url: \"%s\", user: \"%s\" } },"
                    .formatted(url, user);
            String replies = sinkPort == null ? "" : ("channels: { webhook: { replyUrl: \"http://127.0.0.1:%d/replies\","
                    + " maxConcurrentSends: 64 } },").formatted(sinkPort);
            Files.writeString(dir.resolve("ferry.json5"), "{ gateway: { port: %d }, state: { dir: \"%s\" }, %s %s %s }\n"
                    .formatted(ports[i], dir.resolve("state"), journal, replies, messages));
            List<String> command = new ArrayList<>(List.of("java"));
            command.addAll(List.of(System.getenv().getOrDefault("FERRY_BENCH_JVM_FLAGS", "-XX:+UseSerialGC").trim().split("\\s+")));
            command.addAll(List.of("-jar", jar.toString(), "gateway", "--config", dir.resolve("ferry.json5").toString()));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("gateway.log").toFile());
            builder.environment().put("FERRY_LOG_LEVEL", System.getenv().getOrDefault("FERRY_BENCH_LOG_LEVEL", "WARN"));
            running.add(builder.start());
        }
        for (int i = 0; i < count; i++) {
            try {
                WebhookSender.awaitHealthy(ports[i], running.get(running.size() - count + i), Duration.ofSeconds(60));
            } catch (IllegalStateException e) {
                // The work directory goes with the run: what the gateway said is shown here, or it is lost.
                System.err.println("gateway " + i + " log:\n" + Files.readString(work.resolve("gateway-" + i).resolve("gateway.log")));
                throw e;
            }
        }
        return ports;
    }

    /** A database of its own for the phase, made through the server's maintenance database. */
    private static void createDatabase(String url, String user) throws Exception {
        String name = url.substring(url.lastIndexOf('/') + 1);
        String maintenance = url.substring(0, url.lastIndexOf('/') + 1) + "postgres";
        try (var connection = java.sql.DriverManager.getConnection(maintenance, user, "");
             var statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + name);
            statement.execute("CREATE DATABASE " + name);
        }
    }

    private static void stop(List<Process> running) throws InterruptedException {
        for (Process process : running) {
            process.destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS);
        }
        running.clear();
    }

    /** Closed-loop intake: each connection posts its next unique message once the last one is acknowledged. */
    private static double intake(int[] ports, int seconds, String tag) throws InterruptedException {
        AtomicLong acknowledged = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        int perGateway = CONNECTIONS / ports.length;
        WebhookSender[] senders = new WebhookSender[ports.length];
        for (int g = 0; g < ports.length; g++) {
            int gateway = g;
            String prefix = tag + "-" + g;
            AtomicLong next = new AtomicLong();
            // As many messages in flight as the gateway has connections: each answer sends the next.
            Runnable send = () -> {
                long n = next.getAndIncrement();
                senders[gateway].post(prefix + "-" + (n % 512), prefix + "-" + n);
            };
            senders[g] = new WebhookSender(ports[g], perGateway, (id, status) -> {
                if (status == 202) {
                    acknowledged.incrementAndGet();
                }
                if (!stop.get()) {
                    send.run();
                }
            });
            for (int i = 0; i < perGateway; i++) {
                send.run();
            }
        }
        long start = System.nanoTime();
        long before = acknowledged.get();
        TimeUnit.SECONDS.sleep(seconds);   // the measured interval itself, not a wait for a condition
        long counted = acknowledged.get() - before;
        double elapsed = (System.nanoTime() - start) / 1e9;
        stop.set(true);
        for (WebhookSender sender : senders) {
            sender.awaitAnswered(Duration.ofSeconds(10));   // so the gateways stop with nothing in flight
        }
        return counted / elapsed;
    }

    /** Each session sends its next message once its last one is answered, each message to the next gateway. */
    private static double closedLoop(WebhookSender[] senders, int sessions, int seconds, String tag) throws InterruptedException {
        AtomicLong next = new AtomicLong();
        return ClosedLoop.repliesPerSecond(sessions, seconds, tag, ON_REPLY,
                (conversation, id) -> senders[(int) (next.getAndIncrement() % senders.length)].post(conversation, id), 120);
    }

    /** The reply sink: each reply answers the messages it names, which sends each session's next. */
    private static Server sink() throws Exception {
        return Loopback.serve(new ReplySinkHandler((id, nowNanos) -> {
            Runnable then = ON_REPLY.remove(id);
            if (then != null) {
                then.run();
            }
        }));
    }
}
