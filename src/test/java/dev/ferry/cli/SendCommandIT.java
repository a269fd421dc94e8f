package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.testing.GatewayProcess;

/** {@code ferry send} and {@code ferry status} from the built jar, against a real gateway process or none. */
class SendCommandIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void sendPrintsTheEchoReplyAndExits0() throws Exception {
        int port = GatewayProcess.freePort();
        Path config = writeConfig("gateway.json5", "{ gateway: { port: %d }, state: { dir: '%s' } }"
                .formatted(port, dir.resolve("state")));
        try (GatewayProcess gateway = GatewayProcess.start("gateway", "--config", config.toString())) {
            gateway.awaitReady(TIMEOUT);

            GatewayProcess.Result send = GatewayProcess.run(TIMEOUT, "send", "--config", config.toString(), "hello");

            assertThat(send.exitCode()).as(send.output()).isZero();
            assertThat(send.output().lines()).contains("echo: hello");

            // Sent again under the same id (as after a lost connection): no second turn, the first reply again.
            GatewayProcess.Result first = GatewayProcess.run(TIMEOUT, "send", "--config", config.toString(),
                    "--message-id", "m-once", "once");
            GatewayProcess.Result again = GatewayProcess.run(TIMEOUT, "send", "--config", config.toString(),
                    "--message-id", "m-once", "once");
            assertThat(first.exitCode()).as(first.output()).isZero();
            assertThat(again.exitCode()).as(again.output()).isZero();
            assertThat(again.output()).contains("duplicate").contains("echo: once");
            GatewayProcess.Result history = GatewayProcess.run(TIMEOUT, "status", "--config", config.toString());
            assertThat(history.output()).contains("\"received\" : 2");
        }
    }

    @Test
    void aWrongTokenIsRefusedBySendAndByStatusWithoutShowingIt() throws Exception {
        int port = GatewayProcess.freePort();
        Path config = writeConfig("gateway.json5", "{ gateway: { port: %d, auth: { token: 'the-right-token' } }, state: { dir: '%s' } }"
                .formatted(port, dir.resolve("state")));
        Path wrong = writeConfig("wrong.json5", "{ gateway: { port: %d, auth: { token: 'wrong-token-4711' } } }".formatted(port));
        try (GatewayProcess gateway = GatewayProcess.start("gateway", "--config", config.toString())) {
            gateway.awaitReady(TIMEOUT);

            GatewayProcess.Result send = GatewayProcess.run(TIMEOUT, "send", "--config", wrong.toString(), "hello");
            GatewayProcess.Result status = GatewayProcess.run(TIMEOUT, "status", "--config", wrong.toString());

            assertThat(send.exitCode()).as(send.output()).isEqualTo(GatewayFailure.Kind.UNAUTHORIZED.exitCode());
            assertThat(send.output()).contains("ferry: the gateway refused the token (UNAUTHORIZED")
                    .contains(wrong.toString()).doesNotContain("wrong-token-4711").doesNotContain("the-right-token");
            assertThat(status.exitCode()).as(status.output()).isEqualTo(1);
            assertThat(status.output()).contains("ferry: the gateway refused the token (UNAUTHORIZED")
                    .doesNotContain("wrong-token-4711").doesNotContain("the-right-token");
        }
    }

    @Test
    void withNoGatewayRunningSendAndStatusSaySo() throws Exception {
        int port = GatewayProcess.freePort();
        Path config = writeConfig("nobody.json5", "{ gateway: { port: %d } }".formatted(port));
        String notRunning = "ferry: no gateway at http://127.0.0.1:" + port
                + ": connection refused (is `ferry gateway` running?)";

        GatewayProcess.Result send = GatewayProcess.run(TIMEOUT, "send", "--config", config.toString(), "hello");
        GatewayProcess.Result status = GatewayProcess.run(TIMEOUT, "status", "--config", config.toString());

        assertThat(send.exitCode()).as(send.output()).isEqualTo(GatewayFailure.Kind.NOT_RUNNING.exitCode());
        assertThat(send.output().lines()).contains(notRunning);
        assertThat(status.exitCode()).as(status.output()).isEqualTo(1);
        assertThat(status.output().lines()).contains(notRunning);
    }

    private Path writeConfig(String name, String text) throws Exception {
        Path config = dir.resolve(name);
        Files.writeString(config, text);
        return config;
    }
}
