package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.testing.Fifos;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayProcess;

/**
 * SPEC 3.3 step 1 with real signals to a real process: a configuration file deleted, emptied or replaced
 * by a FIFO is a refused reload, and the gateway runs on exactly as it was, on its port with its token.
 */
class RefusedReloadIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String TOKEN = "keep-this-token-1234";

    @TempDir
    Path dir;

    /** A way to break the file, named by the reason the refusal must give. */
    private interface Damage {
        void apply(Path file) throws Exception;
    }

    @Test
    void sigusr1WithTheFileMissingEmptyOrAFifoIsRefusedAndTheGatewayKeepsItsPortAndToken() throws Exception {
        Path file = dir.resolve("ferry.json5");
        int port = GatewayProcess.freePort();
        String text = "{ gateway: { port: %d, auth: { token: '%s' } }, state: { dir: '%s' } }"
                .formatted(port, TOKEN, dir.resolve("state"));
        Files.writeString(file, text);
        Map<String, Damage> damages = new LinkedHashMap<>();
        damages.put("does not exist", Files::delete);
        damages.put("is empty", path -> Files.writeString(path, ""));
        damages.put("is empty (only blanks", path -> Files.writeString(path, "  \n// nothing but a comment\n"));
        damages.put("not a regular file", path -> {
            Files.delete(path);
            Fifos.make(path);
        });
        try (GatewayProcess gateway = GatewayProcess.start("gateway", "--config", file.toString())) {
            var client = new GatewayClient(gateway.awaitReady(TIMEOUT), TOKEN);
            assertThat(client.rpc("status").status()).isEqualTo(200);
            int refused = 0;
            for (Map.Entry<String, Damage> damage : damages.entrySet()) {
                damage.getValue().apply(file);

                signal(gateway.process().pid(), "USR1");

                int expected = ++refused;
                await().atMost(TIMEOUT).until(() -> reloadOutcomes(gateway.output()).count() == expected);
                assertThat(reloadOutcomes(gateway.output()).reduce((first, second) -> second)).get().as(damage.getKey())
                        .asString().contains("reload refused").contains(file.toString()).contains(damage.getKey());
                assertServingAsConfigured(client, port, expected);
            }
            assertThat(gateway.output()).doesNotContain("listener moved");

            // The reload thread is not stuck on the FIFO: the next good file applies.
            Files.delete(file);
            Files.writeString(file, text.replace("state:", "messages: { queue: { cap: 7 } }, state:"));
            signal(gateway.process().pid(), "USR1");
            await().atMost(TIMEOUT).until(() -> reloadOutcomes(gateway.output()).count() == damages.size() + 1);
            assertThat(gateway.output()).contains("reload applied");
            assertThat(client.get("/healthz", null).body().get("generation").asLong()).isEqualTo(2);
            assertThat(client.rpc("config.get").body().at("/payload/config/messages/queue/cap").asInt()).isEqualTo(7);

            gateway.process().destroy();
            assertThat(gateway.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(gateway.process().exitValue()).as(gateway.output()).isZero();
        }
    }

    /** Still on the configured port, still generation 1, still demanding the configured token. */
    private static void assertServingAsConfigured(GatewayClient client, int port, int failedReloads) {
        GatewayClient.Answer health = client.get("/healthz", null);
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.body().get("generation").asLong()).isEqualTo(1);
        assertThat(health.body().get("state").asText()).isEqualTo("running");
        assertThat(client.rpc("status").status()).isEqualTo(200);
        GatewayClient.Answer anonymous = client.post("/rpc", "{\"method\":\"status\"}", null);
        assertThat(anonymous.status()).as("the token is still required").isEqualTo(401);
        assertThat(client.get("/metrics", TOKEN).raw())
                .contains("ferry_reloads_total{result=\"failed\"} " + failedReloads + ".0");
        assertThat(client.rpc("config.get").body().at("/payload/config/gateway/port").asInt()).isEqualTo(port);
    }

    /** The log lines that end a reload, whichever way it went. */
    private static Stream<String> reloadOutcomes(String output) {
        return output.lines().filter(line -> line.contains("reload refused") || line.contains("reload applied")
                || line.contains("reload failed"));
    }

    private static void signal(long pid, String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }
}
