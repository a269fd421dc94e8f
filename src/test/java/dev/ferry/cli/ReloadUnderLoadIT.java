package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayProcess;
import dev.ferry.testing.ReplySink;

/**
 * The run loop's promise with real signals to a real process: while messages with unique tokens stream
 * in from many senders, the gateway is reloaded by SIGUSR1 ten times and by five config.patch edits,
 * then stopped by SIGTERM. Every acknowledged token must be in exactly one delivered reply.
 */
class ReloadUnderLoadIT {

    private static final Pattern TOKEN = Pattern.compile("tok-\\d+-\\d+");
    private static final int SENDERS = 12;
    private static final int MESSAGES_PER_SENDER = 80;
    private static final Duration SEND_INTERVAL = Duration.ofMillis(40);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedTokenIsAnsweredExactlyOnceThroughReloadsAndAGracefulStop() throws Exception {
        try (ReplySink sink = new ReplySink()) {
            Path config = dir.resolve("ferry.json5");
            Files.writeString(config, """
                    {
                      gateway: { port: 0 },
                      state: { dir: "%s" },
                      agent: { echo: { delayMs: 20 } },
                      messages: { inbound: { debounceMs: 100 }, queue: { cap: 1000, debounceMs: 50 } },
                      channels: { webhook: { replyUrl: "%s" } },
                    }
                    """.formatted(dir.resolve("state"), sink.url()));
            try (GatewayProcess gateway = GatewayProcess.start("gateway", "--config", config.toString())) {
                var client = new GatewayClient(gateway.awaitReady(Duration.ofSeconds(60)), null);
                Set<String> acknowledged = ConcurrentHashMap.newKeySet();
                Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();

                List<String> failures = new CopyOnWriteArrayList<>();
                CountDownLatch streamed = stream(client, acknowledged, statuses, failures);
                int reloads = 0;
                int patches = 0;
                List<String> patchBodies = List.of(
                        "{ messages: { inbound: { debounceMs: 0 } } }",
                        "{ messages: { queue: { mode: 'followup' } } }",
                        "{ messages: { inbound: { debounceMs: 250 } } }",
                        "{ messages: { queue: { mode: 'steer', debounceMs: 0 } } }",
                        // Slow turns at the end leave work in flight when SIGTERM arrives: the stop must finish it.
                        "{ messages: { queue: { mode: 'collect' } }, agent: { echo: { delayMs: 150 } } }");
                // Reloads are spread over the stream by waiting on its progress, not on the clock.
                int total = SENDERS * MESSAGES_PER_SENDER;
                while (reloads < 10 || patches < 5) {
                    int target = (reloads + patches + 1) * total / 16;
                    awaitAcknowledged(acknowledged, target, streamed);
                    if (reloads <= patches * 2 && reloads < 10) {
                        signal(gateway.process().pid(), "USR1");
                        reloads++;
                    } else {
                        patch(client, patchBodies.get(patches));
                        patches++;
                    }
                }
                assertThat(streamed.await(120, TimeUnit.SECONDS)).as("the stream finished").isTrue();

                gateway.process().destroy();
                assertThat(gateway.process().waitFor(60, TimeUnit.SECONDS)).as("stopped after SIGTERM").isTrue();
                assertThat(gateway.process().exitValue()).as(gateway.output()).isZero();

                assertThat(failures).as("requests that got no answer").isEmpty();
                assertThat(statuses.keySet()).as("intake answered only 202/200").isSubsetOf(200, 202);
                assertThat(acknowledged).hasSize(total);
                Map<String, Set<String>> repliesByToken = new HashMap<>();
                sink.accepted().forEach(reply -> {
                    Matcher matcher = TOKEN.matcher(reply.body().get("text").asText());
                    while (matcher.find()) {
                        repliesByToken.computeIfAbsent(matcher.group(), t -> new HashSet<>())
                                .add(reply.body().get("replyId").asText());
                    }
                });
                assertThat(repliesByToken.keySet()).as("every acknowledged token was answered")
                        .containsAll(acknowledged);
                assertThat(repliesByToken.entrySet()).as("no token answered in two replies")
                        .allSatisfy(entry -> assertThat(entry.getValue()).as(entry.getKey()).hasSize(1));
                assertThat(gateway.output()).contains("reload applied").doesNotContain("reload refused");
            }
        }
    }

    /** Each sender posts its tokens at a steady rate on a shared timer; returns a latch for the end. */
    private static CountDownLatch stream(GatewayClient client, Set<String> acknowledged, Map<Integer, AtomicInteger> statuses,
                                         List<String> failures) {
        CountDownLatch done = new CountDownLatch(SENDERS);
        ScheduledExecutorService timer = Executors.newScheduledThreadPool(4);
        for (int sender = 0; sender < SENDERS; sender++) {
            int id = sender;
            AtomicInteger next = new AtomicInteger();
            timer.scheduleAtFixedRate(() -> {
                int i = next.getAndIncrement();
                if (i >= MESSAGES_PER_SENDER) {
                    if (i == MESSAGES_PER_SENDER) {
                        done.countDown();
                    }
                    return;
                }
                String token = "tok-" + id + "-" + i;
                try {
                    var answer = client.webhookMessage(token, "room-" + (id % 4), "sender-" + id, "hello " + token);
                    statuses.computeIfAbsent(answer.status(), s -> new AtomicInteger()).incrementAndGet();
                    if (answer.status() == 202 || answer.status() == 200) {
                        acknowledged.add(token);
                    }
                } catch (RuntimeException e) {
                    // No answer at all is a failure too; recorded, so the test fails with the cause.
                    failures.add(token + ": " + e);
                }
            }, id * 3L, SEND_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        }
        Thread reaper = new Thread(() -> {
            try {
                done.await(180, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            timer.shutdownNow();
        });
        reaper.setDaemon(true);
        reaper.start();
        return done;
    }

    private static void awaitAcknowledged(Set<String> acknowledged, int count, CountDownLatch streamed)
            throws InterruptedException {
        // The stream has no signal per message; its own pace is the clock here, checked in small steps.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acknowledged.size() < count && streamed.getCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    private static void signal(long pid, String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    private static void patch(GatewayClient client, String raw) throws Exception {
        String hash = client.rpc("config.get").body().at("/payload/hash").asText();
        var params = JSON.createObjectNode().put("raw", raw).put("baseHash", hash);
        var answer = client.rpc("config.patch", params.toString());
        assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
        assertThat(answer.body().at("/payload/reload/applied").asBoolean()).as(answer.raw()).isTrue();
    }
}
