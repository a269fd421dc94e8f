package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;

/** What the RPCs say about the journal, over real HTTP: its health in {@code status}. */
class JournalRpcIT {

    @TempDir
    Path state;

    private Gateway gateway;
    private GatewayClient client;

    @BeforeEach
    void start() throws Exception {
        gateway = Gateway.start(ConfigLoader.parse("{ gateway: { port: 0 }, state: { dir: '" + state + "' } }", null));
        client = new GatewayClient(gateway.url(), null);
    }

    @AfterEach
    void stop() {
        gateway.close();
    }

    @Test
    void statusShowsTheJournalWritableUntilItsFileIsRemoved() throws Exception {
        assertThat(status().at("/journal/writable").asBoolean()).isTrue();
        assertThat(status().at("/journal/problem").isNull()).isTrue();

        Files.delete(state.resolve("journal.db"));

        await().atMost(Duration.ofSeconds(5)).until(() -> !status().at("/journal/writable").asBoolean());
        assertThat(status().at("/journal/problem").asText()).contains(state.resolve("journal.db").toString(), "was removed");
    }

    private JsonNode status() {
        return client.rpc("status").body().get("payload");
    }
}
