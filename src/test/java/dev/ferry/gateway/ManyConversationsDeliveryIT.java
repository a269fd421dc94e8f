package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.ReplySink;

/**
 * Twenty thousand conversations of one message each, webhook in, echo agent, real receiver out, all in
 * this JVM so that its thread and descriptor counts are the gateway's: every reply must arrive exactly
 * once, with no thread started per reply and no connection kept per conversation.
 */
class ManyConversationsDeliveryIT {

    private static final int WARM_UP = 500;
    private static final int CONVERSATIONS = 20_000;
    private static final int POSTERS = 16;

    @TempDir
    Path state;

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final ExecutorService posters = Executors.newFixedThreadPool(POSTERS);
    /** The load's own client, on threads of its own that are all started in the warm-up. */
    private final ExecutorService clientThreads = Executors.newFixedThreadPool(2);
    private final HttpClient http = HttpClient.newBuilder().executor(clientThreads).build();
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    private ReplySink sink;
    private Gateway gateway;

    @AfterEach
    void stop() {
        posters.shutdownNow();
        clientThreads.shutdownNow();
        sampler.shutdownNow();
        if (gateway != null) {
            gateway.close();
        }
        if (sink != null) {
            sink.close();
        }
    }

    @Test
    void everyReplyOfTwentyThousandConversationsArrivesOnceWithFlatThreadAndDescriptorCounts() throws Exception {
        sink = new ReplySink();
        // Durable acknowledgements cost an fsync each round, which would make this a test of the disk.
        gateway = Gateway.start(ConfigLoader.parse("{ gateway: { port: 0 }, state: { dir: '" + state + "' },"
                + " journal: { sync: 'normal' }, messages: { queue: { mode: 'followup', debounceMs: 0 } },"
                + " channels: { webhook: { replyUrl: '" + sink.url() + "' } } }", null));
        GatewayClient client = new GatewayClient(gateway.url(), null);
        // Every pool on both sides has started its threads and opened its connections before counting begins.
        post("warm", WARM_UP);
        await().atMost(Duration.ofSeconds(30)).until(() -> sink.accepted().size() == WARM_UP
                && client.rpc("status").body().at("/payload/outbox/pending").asInt() == 0);

        long threadsBefore = threads.getTotalStartedThreadCount();
        long lastThreadIdBefore = Thread.getAllStackTraces().keySet().stream().mapToLong(Thread::getId).max().orElse(0);
        long descriptorsBefore = openDescriptors();
        AtomicLong peakDescriptors = new AtomicLong(descriptorsBefore);
        sampler.scheduleAtFixedRate(() -> peakDescriptors.accumulateAndGet(openDescriptors(), Math::max),
                0, 50, TimeUnit.MILLISECONDS);
        long start = System.nanoTime();
        post("load", CONVERSATIONS);
        long accepted = System.nanoTime();
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100))
                .until(() -> sink.accepted().size() >= WARM_UP + CONVERSATIONS);
        long delivered = System.nanoTime();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> client.rpc("status").body().at("/payload/outbox/pending").asInt() == 0);
        long threadsStarted = threads.getTotalStartedThreadCount() - threadsBefore;
        List<String> startedAlive = Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getId() > lastThreadIdBefore).map(Thread::getName).sorted().toList();
        System.out.printf("[delivery] %d conversations: intake %.0f msg/s, webhook-to-reply %.0f replies/s"
                        + " (last reply %.2f s after the last acknowledgement), threads started %d (alive: %s),"
                        + " descriptors %d before, peak %d%n",
                CONVERSATIONS, CONVERSATIONS / seconds(accepted - start), CONVERSATIONS / seconds(delivered - start),
                seconds(delivered - accepted), threadsStarted, startedAlive, descriptorsBefore, peakDescriptors.get());

        List<ReplySink.Received> replies = sink.accepted().subList(WARM_UP, sink.accepted().size());
        Set<String> keys = new HashSet<>();
        Set<String> texts = new HashSet<>();
        for (ReplySink.Received reply : replies) {
            assertThat(reply.idempotencyKey()).isEqualTo(reply.body().get("replyId").asText());
            keys.add(reply.idempotencyKey());
            texts.add(reply.body().get("text").asText());
        }
        assertThat(replies).hasSize(CONVERSATIONS);
        assertThat(keys).as("one reply id per reply").hasSize(CONVERSATIONS);
        assertThat(texts).as("every message answered once")
                .isEqualTo(new HashSet<>(Stream.iterate(0, i -> i + 1).limit(CONVERSATIONS)
                        .map(i -> "echo: load token-" + i).toList()));
        assertThat(threadsStarted).as("threads started while 20,000 replies went out").isLessThan(32);
        assertThat(peakDescriptors.get() - descriptorsBefore).as("descriptors opened beyond the warmed-up pools")
                .isLessThan(100);
    }

    /** One message to each of {@code count} conversations, from a few concurrent posters, each acknowledged 202. */
    private void post(String prefix, int count) throws Exception {
        URI inbound = gateway.url().resolve("/channels/webhook/inbound");
        List<Future<?>> done = new ArrayList<>();
        for (int poster = 0; poster < POSTERS; poster++) {
            int first = poster;
            done.add(posters.submit(() -> {
                for (int i = first; i < count; i += POSTERS) {
                    String body = "{\"messageId\":\"m-" + i + "\",\"conversation\":\"" + prefix + "-" + i
                            + "\",\"sender\":\"sender-" + i + "\",\"text\":\"" + prefix + " token-" + i + "\"}";
                    HttpResponse<String> answer = http.send(HttpRequest.newBuilder(inbound)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
                }
                return null;
            }));
        }
        for (Future<?> future : done) {
            future.get(60, TimeUnit.SECONDS);
        }
    }

    private static long openDescriptors() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
