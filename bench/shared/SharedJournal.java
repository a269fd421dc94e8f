import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One engine setting of bench/shared.sh: GATEWAYS gateway processes on one journal (SQLite when no URL is
 * given, which allows one gateway; PostgreSQL otherwise), behind a round-robin sender, in two phases.
 *   intake: keep-alive connections spread evenly over the gateways post unique webhook messages as fast as
 *           each is acknowledged (after the durable commit), for SECONDS; the inbound debouncer holds every
 *           message, so only intake writes the journal. Acknowledgements per second.
 *   e2e:    the gateways restarted on an empty journal with the echo backend; SESSIONS sessions each keep one
 *           message in flight, every message to the next gateway in turn (so a session's messages land on
 *           gateways other than its holder, as behind a load balancer), for SECONDS. Replies per second.
 * Usage: java -cp target/ferry.jar bench/shared/SharedJournal.java JAR WORKDIR GATEWAYS SECONDS SESSIONS [JDBC_URL USER]
 * Prints "RESULT intake N" and "RESULT e2e N".
 */
public final class SharedJournal {
    private static final ObjectMapper JSON = new ObjectMapper();
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
                    ((ServerConnector) sink.getConnectors()[0]).getLocalPort(), running);
            Sender[] senders = new Sender[ports.length];
            for (int i = 0; i < ports.length; i++) {
                senders[i] = new Sender(ports[i], CONNECTIONS / ports.length);
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
            ports[i] = freePort();
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
            awaitHealthy(ports[i], running.get(running.size() - count + i));
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
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < CONNECTIONS; c++) {
            int port = ports[c % ports.length];
            String prefix = tag + "-" + c;
            Thread thread = new Thread(() -> {
                try (Socket socket = new Socket("127.0.0.1", port)) {
                    socket.setTcpNoDelay(true);
                    var in = new BufferedInputStream(socket.getInputStream());
                    var out = socket.getOutputStream();
                    for (long n = 0; !stop.get(); n++) {
                        out.write(request(port, prefix + "-" + (n % 512), prefix + "-" + n));
                        out.flush();
                        if (readStatus(in) == 202) {
                            acknowledged.incrementAndGet();
                        }
                    }
                } catch (IOException e) {
                    System.err.println("intake sender stopped: " + e);
                }
            });
            thread.start();
            threads.add(thread);
        }
        long start = System.nanoTime();
        long before = acknowledged.get();
        TimeUnit.SECONDS.sleep(seconds);   // the measured interval itself, not a wait for a condition
        long counted = acknowledged.get() - before;
        double elapsed = (System.nanoTime() - start) / 1e9;
        stop.set(true);
        for (Thread thread : threads) {
            thread.join(10_000);
        }
        return counted / elapsed;
    }

    /** Each session sends its next message once its last one is answered, each message to the next gateway. */
    private static double closedLoop(Sender[] senders, int sessions, int seconds, String tag) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        AtomicLong replies = new AtomicLong();
        AtomicLong next = new AtomicLong();
        CountDownLatch done = new CountDownLatch(sessions);
        long start = System.nanoTime();
        for (int s = 0; s < sessions; s++) {
            String conversation = tag + "-" + s;
            Runnable[] send = new Runnable[1];
            AtomicLong n = new AtomicLong();
            send[0] = () -> {
                if (System.nanoTime() >= end) {
                    done.countDown();
                    return;
                }
                String id = conversation + "-" + n.incrementAndGet();
                ON_REPLY.put(id, () -> {
                    replies.incrementAndGet();
                    send[0].run();
                });
                senders[(int) (next.getAndIncrement() % senders.length)].post(conversation, id);
            };
            send[0].run();
        }
        if (!done.await(seconds + 120L, TimeUnit.SECONDS)) {
            throw new IllegalStateException("replies stopped coming: " + replies.get() + " so far");
        }
        return replies.get() / ((System.nanoTime() - start) / 1e9);
    }

    /** Keep-alive connections to one gateway, posting what is queued. */
    private static final class Sender {
        private final BlockingQueue<String[]> queue = new LinkedBlockingQueue<>();

        Sender(int port, int connections) {
            for (int i = 0; i < connections; i++) {
                Thread thread = new Thread(() -> sendLoop(port), "bench-sender-" + port + "-" + i);
                thread.setDaemon(true);
                thread.start();
            }
        }

        void post(String conversation, String id) {
            queue.add(new String[] {conversation, id});
        }

        private void sendLoop(int port) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setTcpNoDelay(true);
                var in = new BufferedInputStream(socket.getInputStream());
                var out = socket.getOutputStream();
                while (true) {
                    String[] message = queue.take();
                    out.write(request(port, message[0], message[1]));
                    out.flush();
                    int status = readStatus(in);
                    if (status != 202) {
                        System.err.println("intake refused " + message[1] + ": " + status);
                    }
                }
            } catch (Exception e) {
                System.err.println("sender stopped: " + e);
            }
        }
    }

    private static byte[] request(int port, String conversation, String id) {
        byte[] body = ("{\"messageId\":\"" + id + "\",\"conversation\":\"" + conversation
                + "\",\"sender\":\"bench\",\"text\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8);
        byte[] head = ("POST /channels/webhook/inbound HTTP/1.1\r\nHost: 127.0.0.1:" + port
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] request = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        return request;
    }

    /** Reads one response (status line, headers, a Content-Length body) and answers its status. */
    private static int readStatus(InputStream in) throws IOException {
        String status = line(in);
        int length = 0;
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            if (header.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(header.substring(15).trim());
            }
        }
        if (in.readNBytes(length).length != length) {
            throw new EOFException("response cut short");
        }
        return Integer.parseInt(status.split(" ")[1]);
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("connection closed");
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    /** The reply sink: each reply answers the messages it names, which sends each session's next. */
    private static Server sink() throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                Content.Source.asStringAsync(request, StandardCharsets.UTF_8).whenComplete((body, failure) -> {
                    try {
                        for (JsonNode id : JSON.readTree(body).path("inReplyTo")) {
                            Runnable then = ON_REPLY.remove(id.asText());
                            if (then != null) {
                                then.run();
                            }
                        }
                    } catch (Exception e) {
                        System.err.println("sink: unreadable reply " + e);
                    }
                    response.setStatus(204);
                    callback.succeeded();
                });
                return true;
            }
        });
        server.start();
        return server;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void awaitHealthy(int port, Process gateway) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!gateway.isAlive()) {
                throw new IllegalStateException("a gateway exited: see its gateway.log");
            }
            try {
                HttpURLConnection connection = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/healthz")
                        .toURL().openConnection();
                connection.setConnectTimeout(1000);
                if (connection.getResponseCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        throw new IllegalStateException("a gateway did not become healthy in 60 s");
    }
}
