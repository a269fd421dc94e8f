package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.testing.FakeOpenAiServer;
import dev.ferry.testing.FakeOpenAiServer.Behaviour;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayProcess;
import dev.ferry.testing.ReplySink;

/**
 * kill -9 while the model streams a turn: the gateway process dies with half a reply read and nothing
 * delivered; after a restart the turn runs again as the same turn (same reply id) and is delivered once.
 */
class StreamingCrashIT {

    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void aTurnCutOffMidStreamByKill9RunsAgainAsTheSameTurnAndIsDeliveredOnce() throws Exception {
        try (FakeOpenAiServer model = FakeOpenAiServer.start(); ReplySink sink = new ReplySink()) {
            int port = GatewayProcess.freePort();
            Path config = dir.resolve("ferry.json5");
            Files.writeString(config, ("{ gateway: { port: %d }, state: { dir: '%s' }, channels: { webhook: { replyUrl: '%s' } },"
                    + " agent: { backend: 'openai', openai: { baseUrl: '%s', model: 'm', apiKeyEnv: 'FERRY_TEST_UNSET_KEY' } } }")
                    .formatted(port, dir.resolve("state"), sink.url(), model.baseUrl()));
            // The first call streams two pieces and then holds the stream open: the process dies mid-turn.
            model.enqueue(Behaviour.stallAfter("never finished", 10, 2), Behaviour.reply("the answer"));

            String firstReplyKey;
            try (GatewayProcess first = GatewayProcess.start("gateway", "--config", config.toString())) {
                URI url = first.awaitReady(PATIENCE);
                GatewayClient client = new GatewayClient(url, null);
                assertThat(client.webhookMessage("m-1", "c", "ann", "the question").status()).isEqualTo(202);
                model.awaitRequest(0, PATIENCE);
                first.process().destroyForcibly();
                assertThat(first.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(sink.accepted()).as("nothing of the cut-off turn was delivered").isEmpty();
            }

            try (GatewayProcess second = GatewayProcess.start("gateway", "--config", config.toString())) {
                URI url = second.awaitReady(PATIENCE);
                GatewayClient client = new GatewayClient(url, null);
                await().atMost(PATIENCE).until(() -> sink.accepted().size() == 1);
                assertThat(sink.accepted().get(0).body().path("text").asText()).isEqualTo("the answer");
                firstReplyKey = sink.accepted().get(0).idempotencyKey();
                assertThat(model.requests().get(1).messages()).endsWith("user: the question");

                JsonNode history = client.rpc("chat.history", "{\"sessionKey\":\"agent:main:webhook:default:c\"}")
                        .body().path("payload").path("exchanges");
                assertThat(history).hasSize(1);
                assertThat(history.get(0).path("replyId").asText()).as("the same turn, so the same reply id")
                        .isEqualTo(firstReplyKey).endsWith("-" + history.get(0).path("turnId").asLong());
                assertThat(history.get(0).path("turnId").asLong()).isEqualTo(1);
                JsonNode journal = client.rpc("status").body().path("payload").path("journal");
                assertThat(journal.path("done").asLong()).isEqualTo(1);
                assertThat(journal.path("pending").asLong()).isZero();
            }
            assertThat(sink.accepted()).as("delivered once").hasSize(1);
        }
    }
}
