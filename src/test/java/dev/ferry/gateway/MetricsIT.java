package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;

/** {@code GET /metrics} from a real gateway that has done enough to register every meter it has. */
class MetricsIT {

    private static final Duration PATIENCE = Duration.ofSeconds(10);
    private static final Pattern HELP = Pattern.compile("^# HELP (ferry_\\w+)(?: (.*))?$");

    @TempDir
    Path dir;

    private Gateway gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void everyFerryMeterHasAHelpText() throws Exception {
        // One long turn, a queue of one that refuses the next: a drop, a duplicate and a turn running.
        Path file = Files.writeString(dir.resolve("ferry.json5"), """
                { gateway: { port: 0 }, state: { dir: '%s' }, agent: { echo: { delayMs: 60000 } },
                  messages: { queue: { cap: 1, drop: 'new', debounceMs: 0 } } }
                """.formatted(dir.resolve("state")));
        gateway = Gateway.start(ConfigLoader.load(file));
        GatewayClient client = new GatewayClient(gateway.url(), null);
        assertThat(client.webhookMessage("m-1", "c", "ann", "slow").status()).isEqualTo(202);
        await().atMost(PATIENCE).until(() -> gateway.status().get("runningTurns").asInt() == 1);
        assertThat(client.webhookMessage("m-2", "c", "ann", "queued").status()).isEqualTo(202);
        assertThat(client.webhookMessage("m-3", "c", "ann", "dropped").status()).isEqualTo(202);
        assertThat(client.webhookMessage("m-1", "c", "ann", "slow").status()).isEqualTo(200);
        await().atMost(PATIENCE).until(() -> client.get("/metrics", null).raw().contains("ferry_queue_dropped_total"));

        String scrape = client.get("/metrics", null).raw();

        List<String> families = scrape.lines().map(HELP::matcher).filter(Matcher::matches)
                .map(help -> help.group(1)).toList();
        List<String> withoutHelp = scrape.lines().map(HELP::matcher).filter(Matcher::matches)
                .filter(help -> help.group(2) == null || help.group(2).isBlank()).map(help -> help.group(1)).toList();
        assertThat(families).as("the meters this test must see").contains(
                "ferry_reloads_total", "ferry_inbound_accepted_total", "ferry_inbound_duplicates_total",
                "ferry_debounce_flushes_total", "ferry_debounce_buffered_keys", "ferry_turns_completed_total",
                "ferry_turns_failed_total", "ferry_turns_superseded_total", "ferry_turns_running",
                "ferry_turn_duration_seconds", "ferry_queue_depth", "ferry_queue_dropped_total",
                "ferry_queue_steered_total");
        assertThat(withoutHelp).as("meters whose # HELP line is empty").isEmpty();
    }
}
