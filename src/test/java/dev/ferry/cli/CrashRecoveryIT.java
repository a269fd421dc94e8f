package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayProcess;
import dev.ferry.testing.ReplySink;

/**
 * The journal's promise with real crashes: while senders stream messages with unique tokens, the
 * gateway process is killed with SIGKILL at random moments and started again on the same state dir.
 * Senders retry a message until it is acknowledged, as a platform does. In the end every acknowledged
 * token is in exactly one distinct reply.
 */
class CrashRecoveryIT {

    private static final Pattern TOKEN = Pattern.compile("tok-\\d+-\\d+");
    private static final int SENDERS = 6;
    private static final int MESSAGES_PER_SENDER = 60;
    private static final int KILLS = 5;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    /** The gateway running now: stopped after the test, so that a failed case leaves no process behind. */
    private GatewayProcess gateway;

    @AfterEach
    void stopTheGateway() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void everyAcknowledgedTokenIsAnsweredInExactlyOneReplyAcrossFiveKills() throws Exception {
        try (ReplySink sink = new ReplySink()) {
            Path config = dir.resolve("ferry.json5");
            Files.writeString(config, """
                    {
                      gateway: { port: %d },
                      state: { dir: "%s" },
                      agent: { echo: { delayMs: 15 } },
                      messages: { inbound: { debounceMs: 40 }, queue: { cap: 1000, debounceMs: 20 } },
                      channels: { webhook: { replyUrl: "%s" } },
                    }
                    """.formatted(GatewayProcess.freePort(), dir.resolve("state"), sink.url()));
            Set<String> acknowledged = ConcurrentHashMap.newKeySet();
            AtomicInteger unanswered = new AtomicInteger();
            gateway = GatewayProcess.start("gateway", "--config", config.toString());
            var client = new GatewayClient(gateway.awaitReady(TIMEOUT), null);
            List<Thread> senders = startSenders(client, acknowledged, unanswered);

            Random random = new Random(42);
            for (int kill = 0; kill < KILLS; kill++) {
                // A random moment within the stream; the stream's progress is the clock, and it is bounded.
                int target = acknowledged.size() + 20 + random.nextInt(60);
                await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(5)).until(() -> acknowledged.size() >= target
                        || senders.stream().noneMatch(Thread::isAlive));
                gateway.process().destroyForcibly();
                assertThat(gateway.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
                assertThat(gateway.process().exitValue()).as("killed by SIGKILL").isEqualTo(137);
                gateway = GatewayProcess.start("gateway", "--config", config.toString());
                gateway.awaitReady(TIMEOUT);
            }
            for (Thread sender : senders) {
                sender.join(TIMEOUT.toMillis());
            }
            assertThat(acknowledged).hasSize(SENDERS * MESSAGES_PER_SENDER);
            await().atMost(TIMEOUT).until(() -> answeredTokens(sink).keySet().containsAll(acknowledged));
            gateway.process().destroy();
            assertThat(gateway.process().waitFor(30, TimeUnit.SECONDS)).isTrue();

            Map<String, Set<String>> repliesByToken = answeredTokens(sink);
            assertThat(repliesByToken.entrySet()).as("no token answered in two different replies")
                    .allSatisfy(entry -> assertThat(entry.getValue()).as(entry.getKey()).hasSize(1));
            Map<String, String> textByReplyId = new HashMap<>();
            int redeliveries = 0;
            for (ReplySink.Received reply : sink.accepted()) {
                String previous = textByReplyId.put(reply.idempotencyKey(), reply.body().get("text").asText());
                if (previous != null) {
                    redeliveries++;
                    assertThat(reply.body().get("text").asText()).as("a re-delivered reply id carries the same reply")
                            .isEqualTo(previous);
                }
            }
            System.out.printf("crash test: %d kills, %d tokens acknowledged, %d replies, %d raw re-deliveries of a"
                            + " reply id already accepted, %d requests retried by senders%n",
                    KILLS, acknowledged.size(), textByReplyId.size(), redeliveries, unanswered.get());
        }
    }

    /** Each sender sends its tokens in order, retrying one until the gateway acknowledges it. */
    private static List<Thread> startSenders(GatewayClient client, Set<String> acknowledged, AtomicInteger unanswered) {
        List<Thread> senders = new ArrayList<>();
        for (int sender = 0; sender < SENDERS; sender++) {
            int id = sender;
            Thread thread = new Thread(() -> {
                for (int i = 0; i < MESSAGES_PER_SENDER; i++) {
                    String token = "tok-" + id + "-" + i;
                    long deadline = System.nanoTime() + TIMEOUT.toNanos();
                    while (System.nanoTime() < deadline) {
                        try {
                            var answer = client.webhookMessage(token, "room-" + (id % 3), "sender-" + id, "hello " + token);
                            if (answer.status() == 202 || answer.status() == 200) {
                                acknowledged.add(token);
                                break;
                            }
                        } catch (RuntimeException gatewayDown) {
                            // The gateway is being restarted: try the same message again, as a platform would.
                        }
                        unanswered.incrementAndGet();
                        pause();
                    }
                }
            }, "sender-" + id);
            thread.start();
            senders.add(thread);
        }
        return senders;
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Map<String, Set<String>> answeredTokens(ReplySink sink) {
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
