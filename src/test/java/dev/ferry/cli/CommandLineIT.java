package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayProcess;
import dev.ferry.testing.ReplySink;

/** The built jar, run as an operator runs it. */
class CommandLineIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void gatewayProcessAcceptsAWebhookMessageAndDeliversTheReply() throws Exception {
        try (ReplySink sink = new ReplySink()) {
            Path config = dir.resolve("ferry.json5");
            Files.writeString(config, """
                    // a comment, unquoted keys and a trailing comma: JSON5
                    {
                      gateway: { port: 0 },
                      state: { dir: "%s" },
                      channels: { webhook: { replyUrl: "%s", }, },
                    }
                    """.formatted(dir.resolve("state"), sink.url()));
            try (GatewayProcess gateway = GatewayProcess.start("gateway", "--config", config.toString())) {
                var client = new GatewayClient(gateway.awaitReady(TIMEOUT), null);

                assertThat(client.get("/healthz", null).status()).isEqualTo(200);
                assertThat(client.webhookMessage("p-1", "proc", "ivy", "over the wire").status()).isEqualTo(202);

                await().atMost(TIMEOUT).until(() -> sink.accepted().size() == 1);
                assertThat(sink.accepted().get(0).body().get("text").asText()).isEqualTo("echo: over the wire");
                assertThat(gateway.output()).contains("config=" + config);
            }
        }
    }

    @Test
    void configValidateNamesEveryBadPathAndExits1() throws Exception {
        Path config = dir.resolve("bad.json5");
        Files.writeString(config, "{ gateway: { port: 'high' }, messages: { queue: { cap: 0 } }, colour: 'blue' }");

        GatewayProcess.Result result = GatewayProcess.run(TIMEOUT, "config", "validate", "--config", config.toString());

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.output())
                .contains("gateway.port")
                .contains("messages.queue.cap: must be >= 1, got 0")
                .contains("colour");
    }

    @Test
    void configValidateAcceptsAGoodFileAndExits0() throws Exception {
        Path config = dir.resolve("good.json5");
        Files.writeString(config, "{ messages: { queue: { mode: 'followup', cap: 5 } } }");

        GatewayProcess.Result result = GatewayProcess.run(TIMEOUT, "config", "validate", "--config", config.toString());

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("is valid");
    }

    @Test
    void configValidateRefusesABackendItCannotRunJustAsTheGatewayRefusesToStartWithIt() throws Exception {
        Path config = dir.resolve("command.json5");
        Files.writeString(config, "{ gateway: { port: 0 }, state: { dir: '%s' }, agent: { backend: 'command' } }"
                .formatted(dir.resolve("state")));

        GatewayProcess.Result validate = GatewayProcess.run(TIMEOUT, "config", "validate", "--config", config.toString());
        GatewayProcess.Result start = GatewayProcess.run(TIMEOUT, "gateway", "--config", config.toString());

        assertThat(validate.exitCode()).as(validate.output()).isEqualTo(1);
        assertThat(validate.output()).contains("agent.command.argv: required when agent.backend is \"command\"");
        assertThat(start.exitCode()).as(start.output()).isEqualTo(1);
        assertThat(start.output()).contains("agent.command.argv: required when agent.backend is \"command\"");
    }

    @Test
    void gatewayRefusesToStartOnAnInvalidConfigNamingThePath() throws Exception {
        Path config = dir.resolve("bad.json5");
        Files.writeString(config, "{ gateway: { bind: '0.0.0.0', port: 0 } }");

        GatewayProcess.Result result = GatewayProcess.run(TIMEOUT, "gateway", "--config", config.toString());

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.output()).contains("gateway.auth.token");
    }

    @Test
    void selfcheckRunsAMessageThroughAThrowawayGateway() throws Exception {
        GatewayProcess.Result result = GatewayProcess.run(TIMEOUT, "selfcheck");

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("selfcheck: ok");
    }

    @Test
    void selfcheckLogsNoErrorForTheStopItOrdersItself() throws Exception {
        // The stop follows the reply at once, while the delivery's journal record may still be in flight;
        // StopDuringDeliveryIT races that many times in one process, this checks the command as shipped.
        GatewayProcess.Result result = GatewayProcess.run(TIMEOUT, "selfcheck");

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).doesNotContain(" ERROR ").doesNotContain("Exception");
    }

    @Test
    void reloadAndConfigCommandsTalkToTheRunningGateway() throws Exception {
        Path config = dir.resolve("ferry.json5");
        Path state = dir.resolve("state");
        // A fixed port lets the CLI find the gateway from the same file, as an operator's would.
        int port = GatewayProcess.freePort();
        Files.writeString(config, "{ gateway: { port: %d, auth: { token: 'cli-secret' } }, state: { dir: '%s' } }"
                .formatted(port, state));
        try (GatewayProcess gateway = GatewayProcess.start("gateway", "--config", config.toString())) {
            gateway.awaitReady(TIMEOUT);
            assertThat(Files.readString(state.resolve("ferry.pid")).trim())
                    .isEqualTo(Long.toString(gateway.process().pid()));

            GatewayProcess.Result reload = GatewayProcess.run(TIMEOUT, "reload", "--config", config.toString());
            assertThat(reload.exitCode()).as(reload.output()).isZero();
            assertThat(reload.output()).contains("\"applied\" : true").contains("\"generation\" : 2");

            GatewayProcess.Result patch = GatewayProcess.run(TIMEOUT, "config", "patch", "--config", config.toString(),
                    "{ messages: { inbound: { debounceMs: 5 } } }");
            assertThat(patch.exitCode()).as(patch.output()).isZero();
            assertThat(Files.readString(config)).contains("\"debounceMs\" : 5").contains("cli-secret");
            assertThat(Files.exists(dir.resolve("ferry.json5.bak"))).isTrue();

            GatewayProcess.Result get = GatewayProcess.run(TIMEOUT, "config", "get", "--config", config.toString());
            assertThat(get.exitCode()).as(get.output()).isZero();
            assertThat(get.output()).contains("\"debounceMs\" : 5").contains("<redacted>").doesNotContain("cli-secret");

            GatewayProcess.Result status = GatewayProcess.run(TIMEOUT, "status", "--config", config.toString());
            assertThat(status.output()).contains("\"generation\" : 3");
        }
        assertThat(Files.exists(state.resolve("ferry.pid"))).as("the pid file goes with the process").isFalse();
    }

}
