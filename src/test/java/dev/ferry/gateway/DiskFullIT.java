package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayClient.Answer;
import dev.ferry.testing.ReplySink;
import dev.ferry.testing.SmallFileSystem;

/**
 * A gateway whose state dir is a real, small file system that fills up and is freed again, as an
 * operator's disk would: intake refuses while nothing can be stored, says why in {@code status}, and
 * serves again once space is back, without a restart; a sender that kept re-sending one id is answered
 * exactly once, also after a restart.
 */
class DiskFullIT {

    @TempDir
    Path dir;

    private final ReplySink sink = startSink();
    private Gateway gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        sink.close();
    }

    @Test
    void aFullDiskRefusesIntakeUntilFreedAndARetriedIdIsAnsweredOnceAlsoAfterARestart() throws Exception {
        try (SmallFileSystem disk = SmallFileSystem.mount(dir.resolve("state"), 8L << 20)) {
            GatewayClient client = start(disk.root());
            assertThat(client.webhookMessage("m-1", "room", "alice", "before").status()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 1);

            disk.fill();
            for (int attempt = 0; attempt < 5; attempt++) {
                Answer refused = client.webhookMessage("m-2", "room", "alice", "the retried one");
                assertThat(refused.status()).as("attempt %d while the disk is full", attempt).isEqualTo(503);
                assertThat(refused.body().at("/error/code").asText()).isEqualTo("JOURNAL_UNAVAILABLE");
                assertThat(refused.body().at("/error/message").asText()).contains("disk full");
            }
            JsonNode journal = client.rpc("status").body().at("/payload/journal");
            assertThat(journal.get("writable").asBoolean()).isFalse();
            assertThat(journal.get("problem").asText()).contains("disk full");
            assertThat(journal.get("received").asLong()).as("nothing refused was stored").isEqualTo(1);

            disk.free();
            Answer accepted = client.webhookMessage("m-2", "room", "alice", "the retried one");
            Answer resent = client.webhookMessage("m-2", "room", "alice", "the retried one");

            assertThat(accepted.status()).as("serving again once space is back").isEqualTo(202);
            assertThat(resent.status()).isEqualTo(200);
            assertThat(resent.body().get("duplicate").asBoolean()).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 2);
            assertThat(client.rpc("status").body().at("/payload/journal/writable").asBoolean()).isTrue();

            gateway.close();
            client = start(disk.root());
            assertThat(client.webhookMessage("m-2", "room", "alice", "the retried one").status())
                    .as("still a duplicate after a restart").isEqualTo(200);
            assertThat(client.webhookMessage("m-3", "room", "alice", "after").status()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(10)).until(() -> sink.accepted().size() == 3);
            gateway.close();
            gateway = null;

            List<String> answered = sink.accepted().stream()
                    .map(reply -> reply.body().get("inReplyTo").get(0).asText()).toList();
            assertThat(answered).containsExactly("m-1", "m-2", "m-3");
        }
    }

    private GatewayClient start(Path state) throws Exception {
        String config = "{ gateway: { port: 0 }, state: { dir: '" + state + "' },"
                + " channels: { webhook: { replyUrl: '" + sink.url() + "' } } }";
        gateway = Gateway.start(ConfigLoader.parse(config, null));
        return new GatewayClient(gateway.url(), null);
    }

    private static ReplySink startSink() {
        try {
            return new ReplySink();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
