package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayProcess;
import dev.ferry.testing.PostgresCluster;
import dev.ferry.testing.ReplySink;

/**
 * Three gateway processes on one PostgreSQL journal behind a round-robin sender, while unique tokens
 * stream from many conversations: one gateway is killed with SIGKILL and started again, another is frozen
 * with SIGSTOP past its leases and then resumed, and a third is killed and started again. In the end every
 * acknowledged token is in exactly one delivered reply, no turn is committed twice, and the gateway that
 * woke up late had its late commit refused, as its own status says.
 */
class SharedJournalFailoverIT {
    private static final Pattern TOKEN = Pattern.compile("tok-\\d+-\\d+");
    private static final int GATEWAYS = 3;
    private static final int SENDERS = 8;
    private static final int MESSAGES_PER_SENDER = 40;
    private static final int CONVERSATIONS = 12;
    /** Probe tokens are numbered from here, clear of the senders'. */
    private static final int PROBE_SENDER = 100;
    /** How long a sender waits for its token's reply before it sends the next anyway. */
    private static final Duration PACE = Duration.ofSeconds(5);
    private static final long LEASE_TTL_MS = 2_000;
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private PostgresCluster cluster;
    private ReplySink sink;
    private final GatewayProcess[] gateways = new GatewayProcess[GATEWAYS];
    private final URI[] urls = new URI[GATEWAYS];
    /** Replaced when its gateway restarts; read by the sender threads. */
    private final GatewayClient[] clients = new GatewayClient[GATEWAYS];
    private final Path[] configs = new Path[GATEWAYS];

    @BeforeEach
    void startTheDatabase() throws Exception {
        PostgresCluster.requireInstalled();
        cluster = PostgresCluster.start();
        sink = new ReplySink();
    }

    @AfterEach
    void stopEverything() {
        for (GatewayProcess gateway : gateways) {
            if (gateway != null) {
                resume(gateway);
                gateway.close();
            }
        }
        if (sink != null) {
            sink.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void everyAcknowledgedTokenIsAnsweredOnceThroughTwoKillsAndAStallAndTheStalledGatewaysLateCommitIsRefused()
            throws Exception {
        for (int i = 0; i < GATEWAYS; i++) {
            configs[i] = writeConfig(i);
            start(i);
        }
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        Set<String> probes = new HashSet<>();
        AtomicInteger retried = new AtomicInteger();
        List<Thread> senders = startSenders(acknowledged, retried);
        int total = SENDERS * MESSAGES_PER_SENDER;

        awaitAcknowledged(acknowledged, senders, total / 5);
        kill(0);
        start(0);

        awaitAcknowledged(acknowledged, senders, 2 * total / 5);
        int frozen = 1;
        String frozenId = instanceId(frozen);
        // Frozen with a turn in flight, so that it has a commit to make when it wakes: a probe message in a
        // conversation of its own goes to it directly, and it is frozen while the database shows that turn
        // open in a session it holds; otherwise it is let go at once and probed again.
        boolean frozenMidTurn = false;
        for (int attempt = 0; !frozenMidTurn; attempt++) {
            assertThat(attempt).as("attempts to freeze the gateway with a turn in flight").isLessThan(20);
            String probe = "tok-" + (PROBE_SENDER + attempt) + "-0";
            String probeConversation = "probe-" + attempt;
            await().atMost(TIMEOUT).until(() -> send(frozen, probe, probeConversation, "prober"));
            probes.add(probe);
            await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(5)).until(() -> runningTurns(frozen) >= 1);
            frozenMidTurn = openTurnsIn(signal("STOP", frozen, frozenId)) > 0;
            if (!frozenMidTurn) {
                signal("CONT", frozen, frozenId);
            }
        }
        // Resumed only once a peer owns every session it held that still has work: its leases are past.
        try {
            await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(50))
                    .until(() -> stillOwnedWithWork(frozenId) == 0);
        } catch (ConditionTimeoutException e) {
            printTheDatabase(frozenId);
            throw e;
        }
        signal("CONT", frozen, frozenId);

        awaitAcknowledged(acknowledged, senders, 3 * total / 4);
        kill(2);
        start(2);

        for (Thread sender : senders) {
            sender.join(TIMEOUT.toMillis());
        }
        assertThat(acknowledged).hasSize(total);
        await().atMost(TIMEOUT).until(() -> answeredTokens().keySet().containsAll(acknowledged));
        await().atMost(TIMEOUT).until(() -> answeredTokens().keySet().containsAll(probes));
        JsonNode woken = status(frozen).get("instance");
        await().atMost(TIMEOUT).until(() -> undelivered() == 0);

        Map<String, Set<String>> repliesByToken = answeredTokens();
        assertThat(repliesByToken.entrySet()).as("no token answered in two different replies")
                .allSatisfy(entry -> assertThat(entry.getValue()).as(entry.getKey()).hasSize(1));
        Map<String, String> textByReplyId = new HashMap<>();
        for (ReplySink.Received reply : sink.accepted()) {
            String previous = textByReplyId.put(reply.idempotencyKey(), reply.body().get("text").asText());
            if (previous != null) {
                assertThat(reply.body().get("text").asText()).as("a re-sent reply id carries the same reply")
                        .isEqualTo(previous);
            }
        }
        assertThat(query("SELECT COUNT(*) FROM (SELECT turn_id FROM transcript GROUP BY turn_id HAVING COUNT(*) > 1) t"))
                .as("no turn committed twice").isZero();
        assertThat(query("SELECT COUNT(*) FROM outbox")).as("one committed reply per reply id")
                .isEqualTo(textByReplyId.size());
        assertThat(query("SELECT COUNT(*) FROM messages WHERE state <> 1")).as("every message answered").isZero();
        gateways[frozen].output().lines().filter(line -> line.contains("lease") || line.contains("late commit")
                || line.contains("abandoned") || line.contains("took over")).limit(40)
                .forEach(line -> System.out.println("woken gateway: " + line));
        assertThat(woken.get("id").asText()).isEqualTo(frozenId);
        assertThat(woken.get("lateCommitsRefused").asLong()).as("the woken gateway's late commit was refused")
                .isPositive();
        assertThat(woken.get("leasesLost").asLong()).isPositive();
        assertThat(gateways[frozen].output()).contains("late commit refused");
        System.out.printf("shared journal failover: %d tokens acknowledged, %d replies, %d sends retried by senders,"
                        + " late commits refused on the woken gateway: %d, leases it lost: %d%n", acknowledged.size(),
                textByReplyId.size(), retried.get(), woken.get("lateCommitsRefused").asLong(), woken.get("leasesLost").asLong());
    }

    // ---- the gateways ---------------------------------------------------------------------------------------

    private Path writeConfig(int index) throws IOException {
        Path config = dir.resolve("ferry-" + index + ".json5");
        Files.writeString(config, """
                {
                  gateway: { port: %d },
                  state: { dir: "%s" },
                  journal: { engine: "postgres",
                             postgres: { url: "%s", user: "%s", leaseTtlMs: %d } },
                  agent: { echo: { delayMs: 300 } },
                  messages: { inbound: { debounceMs: 30 }, queue: { cap: 1000, debounceMs: 20 } },
                  channels: { webhook: { replyUrl: "%s" } },
                }
                """.formatted(GatewayProcess.freePort(), dir.resolve("state-" + index), cluster.jdbcUrl(),
                PostgresCluster.USER, LEASE_TTL_MS, sink.url()));
        return config;
    }

    private void start(int index) throws Exception {
        gateways[index] = GatewayProcess.start("gateway", "--config", configs[index].toString());
        urls[index] = gateways[index].awaitReady(TIMEOUT);
        synchronized (clients) {
            clients[index] = new GatewayClient(urls[index], null);
        }
    }

    private void kill(int index) throws InterruptedException {
        Process process = gateways[index].process();
        process.destroyForcibly();
        assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("killed by SIGKILL").isEqualTo(137);
    }

    /** Sends the signal to the gateway; for STOP, returns the sessions it held at that moment. */
    private Set<String> signal(String name, int index, String instanceId) throws Exception {
        Set<String> held = new HashSet<>();
        if (name.equals("STOP")) {
            Process kill = new ProcessBuilder("kill", "-STOP", Long.toString(gateways[index].process().pid())).start();
            assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).isTrue();
            try (Connection connection = cluster.connect(); Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT session_key FROM session_leases WHERE owner = '"
                         + instanceId + "'")) {
                while (rows.next()) {
                    held.add(rows.getString(1));
                }
            }
        } else {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(gateways[index].process().pid())).start();
            assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).isTrue();
        }
        return held;
    }

    private static void resume(GatewayProcess gateway) {
        try {
            new ProcessBuilder("kill", "-CONT", Long.toString(gateway.process().pid())).start().waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            // Already gone.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private long openTurnsIn(Set<String> sessions) throws SQLException {
        if (sessions.isEmpty()) {
            return 0;
        }
        return query("SELECT COUNT(*) FROM turns WHERE state = 0 AND session_key IN ('" + String.join("','", sessions) + "')");
    }

    /** How many sessions still name the frozen gateway as owner while they have work pending. */
    private long stillOwnedWithWork(String instanceId) throws SQLException {
        return query("SELECT COUNT(*) FROM session_leases l WHERE l.owner = '" + instanceId + "' AND EXISTS"
                + " (SELECT 1 FROM messages m WHERE m.session_key = l.session_key AND m.state = 0)");
    }

    /** What a failed wait for the takeover needs to be understood: the leases, the pending work, the server's sessions. */
    private void printTheDatabase(String frozenId) throws SQLException {
        print("SELECT l.session_key, l.owner, l.epoch, l.expires_at < now() AS expired,"
                + " (SELECT COUNT(*) FROM messages m WHERE m.session_key = l.session_key AND m.state = 0) AS pending,"
                + " (SELECT COUNT(*) FROM turns t WHERE t.session_key = l.session_key AND t.state = 0) AS open_turns"
                + " FROM session_leases l WHERE l.owner = '" + frozenId + "'");
        print("SELECT pid, state, wait_event_type, wait_event, now() - xact_start AS in_transaction, left(query, 120)"
                + " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
        print("SELECT id, now() - heartbeat_at AS heartbeat_ago FROM instances");
        for (int i = 0; i < GATEWAYS; i++) {
            System.out.println("gateway " + i + ", its last journal line:");
            gateways[i].output().lines().filter(line -> line.contains("journal") || line.contains("lease")
                    || line.contains("WARN") || line.contains("ERROR")).reduce((a, b) -> b).ifPresent(System.out::println);
        }
    }

    private void print(String sql) throws SQLException {
        try (Connection connection = cluster.connect(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(sql)) {
            int columns = rows.getMetaData().getColumnCount();
            System.out.println("-- " + sql);
            while (rows.next()) {
                StringBuilder line = new StringBuilder();
                for (int c = 1; c <= columns; c++) {
                    line.append(c > 1 ? " | " : "").append(rows.getString(c));
                }
                System.out.println(line);
            }
        }
    }

    private JsonNode status(int index) {
        return client(index).rpc("status").body().get("payload");
    }

    private String instanceId(int index) {
        return status(index).get("instance").get("id").asText();
    }

    private int runningTurns(int index) {
        return status(index).get("runningTurns").asInt();
    }

    private long undelivered() throws SQLException {
        return query("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL");
    }

    private long query(String sql) throws SQLException {
        try (Connection connection = cluster.connect(); Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery(sql)) {
            row.next();
            return row.getLong(1);
        }
    }

    // ---- the senders ------------------------------------------------------------------------------------------

    /**
     * Each sender sends its tokens in order across the conversations, each attempt to the next gateway in
     * turn, retrying a token until one acknowledges it; an attempt on a frozen gateway gives up after 2 s.
     */
    private List<Thread> startSenders(Set<String> acknowledged, AtomicInteger retried) {
        AtomicInteger next = new AtomicInteger();
        List<Thread> senders = new ArrayList<>();
        for (int sender = 0; sender < SENDERS; sender++) {
            int id = sender;
            Thread thread = new Thread(() -> {
                for (int i = 0; i < MESSAGES_PER_SENDER; i++) {
                    String token = "tok-" + id + "-" + i;
                    String conversation = "room-" + ((id * 7 + i) % CONVERSATIONS);
                    long deadline = System.nanoTime() + TIMEOUT.toNanos();
                    while (System.nanoTime() < deadline) {
                        int target = Math.floorMod(next.getAndIncrement(), GATEWAYS);
                        if (send(target, token, conversation, "sender-" + id)) {
                            acknowledged.add(token);
                            break;
                        }
                        retried.incrementAndGet();
                    }
                    // Paced by the replies, so that the stream lasts through every kill and the stall instead
                    // of being all acknowledged before the first; a reply held up by a failover only delays it.
                    try {
                        sink.awaitAccepted(token, PACE);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }, "sender-" + id);
            thread.start();
            senders.add(thread);
        }
        return senders;
    }

    private boolean send(int target, String token, String conversation, String sender) {
        try {
            GatewayClient client = client(target);
            String body = """
                    {"messageId":"%s","conversation":"%s","sender":"%s","text":"hello %s"}"""
                    .formatted(token, conversation, sender, token);
            var request = client.request("/channels/webhook/inbound", null).timeout(Duration.ofSeconds(2))
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build();
            int status = client.send(request).status();
            return status == 202 || status == 200;
        } catch (RuntimeException unreachable) {
            // Killed, restarting or frozen: the next gateway gets the same message, as a load balancer would.
            return false;
        }
    }

    private GatewayClient client(int index) {
        synchronized (clients) {
            return clients[index];
        }
    }

    private static void awaitAcknowledged(Set<String> acknowledged, List<Thread> senders, int count) {
        await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(5))
                .until(() -> acknowledged.size() >= count || senders.stream().noneMatch(Thread::isAlive));
    }

    private Map<String, Set<String>> answeredTokens() {
        Map<String, Set<String>> repliesByToken = new HashMap<>();
        sink.accepted().forEach(reply -> {
            Matcher matcher = TOKEN.matcher(reply.body().get("text").asText());
            while (matcher.find()) {
                repliesByToken.computeIfAbsent(matcher.group(), t -> new HashSet<>()).add(reply.idempotencyKey());
            }
        });
        return repliesByToken;
    }
}
