package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayProcess;
import dev.ferry.testing.ReplySink;

/** What the journal keeps across real restarts of the real process. */
class DurabilityIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private Path writeConfig(String replyUrl, String extra) throws Exception {
        Path config = dir.resolve("ferry.json5");
        Files.writeString(config, "{ gateway: { port: 0 }, state: { dir: \"%s\" }, channels: { webhook: { replyUrl: \"%s\" } }, %s }"
                .formatted(dir.resolve("state"), replyUrl, extra));
        return config;
    }

    @Test
    void theSameMessageIdBeforeAndAfterARestartGivesOneReply() throws Exception {
        try (ReplySink sink = new ReplySink()) {
            Path config = writeConfig(sink.url(), "");
            try (GatewayProcess first = GatewayProcess.start("gateway", "--config", config.toString())) {
                var client = new GatewayClient(first.awaitReady(TIMEOUT), null);
                assertThat(client.webhookMessage("once", "dedupe", "ann", "only once").status()).isEqualTo(202);
                await().atMost(TIMEOUT).until(() -> sink.accepted().size() == 1);
            }
            try (GatewayProcess second = GatewayProcess.start("gateway", "--config", config.toString())) {
                var client = new GatewayClient(second.awaitReady(TIMEOUT), null);
                var again = client.webhookMessage("once", "dedupe", "ann", "only once");
                assertThat(again.status()).isEqualTo(200);
                assertThat(again.body().get("duplicate").asBoolean()).isTrue();
                // The transcript came back too: history survives the restart.
                var history = client.rpc("chat.history", "{\"sessionKey\":\"agent:main:webhook:default:dedupe\"}");
                assertThat(history.body().at("/payload/exchanges")).hasSize(1);
            }
            assertThat(sink.accepted()).hasSize(1);
        }
    }

    @Test
    void aQueueDirectiveSurvivesARestart() throws Exception {
        try (ReplySink sink = new ReplySink()) {
            Path config = writeConfig(sink.url(), "");
            try (GatewayProcess first = GatewayProcess.start("gateway", "--config", config.toString())) {
                var client = new GatewayClient(first.awaitReady(TIMEOUT), null);
                client.webhookMessage("q-1", "settings", "bob", "/queue followup cap:7");
                await().atMost(TIMEOUT).until(() -> sink.accepted().size() == 1);
            }
            try (GatewayProcess second = GatewayProcess.start("gateway", "--config", config.toString())) {
                var client = new GatewayClient(second.awaitReady(TIMEOUT), null);
                client.webhookMessage("q-2", "settings", "bob", "/status");
                await().atMost(TIMEOUT).until(() -> sink.accepted().size() == 2);
                assertThat(sink.accepted().get(1).body().get("text").asText()).contains("followup").contains("cap 7");
            }
        }
    }

    @Test
    void aCorruptJournalStopsStartUpWithAClearErrorAndIsLeftAsItWas() throws Exception {
        Path config = writeConfig("http://127.0.0.1:9/unused", "");
        Path journal = dir.resolve("state").resolve("journal.db");
        Files.createDirectories(journal.getParent());
        byte[] garbage = "this is not a journal, just some text that happens to sit there".repeat(200)
                .getBytes(StandardCharsets.UTF_8);
        Files.write(journal, garbage);

        GatewayProcess.Result result = GatewayProcess.run(TIMEOUT, "gateway", "--config", config.toString());

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.output()).contains("cannot start").contains(journal.toString());
        assertThat(Files.readAllBytes(journal)).as("never reset or replaced").isEqualTo(garbage);
    }

    @Test
    void aSecondGatewayOnAJournalInUseIsRefusedWhileTheFirstServesAndStartsOnceAKillFreesIt() throws Exception {
        try (ReplySink sink = new ReplySink()) {
            Path config = writeConfig(sink.url(), "");
            Path journal = dir.resolve("state").resolve("journal.db");
            GatewayProcess first = GatewayProcess.start("gateway", "--config", config.toString());
            var client = new GatewayClient(first.awaitReady(TIMEOUT), null);
            assertThat(client.webhookMessage("l-1", "locked", "ann", "before").status()).isEqualTo(202);

            GatewayProcess.Result refused = GatewayProcess.run(TIMEOUT, "gateway", "--config", config.toString());

            assertThat(refused.exitCode()).isEqualTo(1);
            assertThat(refused.output()).contains("cannot start").contains(journal.toString())
                    .contains("in use by another Ferry gateway").contains("pid " + first.process().pid());
            assertThat(client.webhookMessage("l-2", "locked", "ann", "after").status())
                    .as("the first keeps serving").isEqualTo(202);
            await().atMost(TIMEOUT).until(() -> sink.accepted().size() == 2);

            // The lock is the kernel's: a kill -9 leaves nothing behind that the next start must clean up.
            first.process().destroyForcibly();
            assertThat(first.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
            try (GatewayProcess next = GatewayProcess.start("gateway", "--config", config.toString())) {
                var again = new GatewayClient(next.awaitReady(TIMEOUT), null);
                assertThat(again.webhookMessage("l-2", "locked", "ann", "after").body().get("duplicate").asBoolean())
                        .as("the same journal, reopened").isTrue();
            }
        }
    }

    @Test
    void anUnfinishedTurnIsAnsweredAfterAKillWithTheSameReplyId() throws Exception {
        try (ReplySink sink = new ReplySink()) {
            // Long turns: the kill lands while the turn runs, after its inputs were fixed in the journal.
            Path config = writeConfig(sink.url(), "agent: { echo: { delayMs: 1500 } }");
            GatewayProcess first = GatewayProcess.start("gateway", "--config", config.toString());
            var client = new GatewayClient(first.awaitReady(TIMEOUT), null);
            assertThat(client.webhookMessage("k-1", "killed", "cat", "survive this").status()).isEqualTo(202);
            await().atMost(TIMEOUT).until(() -> client.rpc("status").body().at("/payload/runningTurns").asInt() == 1);
            first.process().destroyForcibly();
            assertThat(first.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(sink.accepted()).isEmpty();

            try (GatewayProcess second = GatewayProcess.start("gateway", "--config", config.toString())) {
                second.awaitReady(TIMEOUT);
                await().atMost(TIMEOUT).until(() -> sink.accepted().size() == 1);
                assertThat(sink.accepted().get(0).body().get("text").asText()).isEqualTo("echo: survive this");
                assertThat(second.output()).contains("openTurns=1");
            }
        }
    }
}
