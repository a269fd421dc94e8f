package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.agent.AgentBackends;
import dev.ferry.agent.EchoBackend;
import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayProcess;

/**
 * A reload applies all of its configuration or none of it: a part that cannot be made (a backend this
 * build lacks, a backend that fails to build) leaves the listener, the backend and {@code config.get}
 * exactly as they were, and a later good reload applies cleanly.
 */
class AllOrNothingReloadIT {

    /** A build that lacks a backend SPEC names: every one of them is built in now, so the tests make one. */
    private static final AgentBackends ECHO_ONLY = new AgentBackends(Map.of("echo", (agent, context) ->
            new EchoBackend(context.scheduler(), java.time.Duration.ZERO)));

    @TempDir
    Path dir;

    private Path file;
    private Gateway gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    private String configText(int port, String agent) {
        return "{ gateway: { port: " + port + " }, state: { dir: '" + dir.resolve("state") + "' }, agent: " + agent + " }";
    }

    private GatewayClient startOn(int port, AgentBackends backends) throws Exception {
        file = dir.resolve("ferry.json5");
        Files.writeString(file, configText(port, "{ backend: 'echo' }"), StandardCharsets.UTF_8);
        gateway = Gateway.start(ConfigLoader.load(file), backends);
        return new GatewayClient(gateway.url(), null);
    }

    private static JsonNode reload(GatewayClient client) {
        GatewayClient.Answer answer = client.rpc("gateway.reload");
        assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
        return answer.body().get("payload");
    }

    private static boolean listening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            return true;
        } catch (ConnectException refused) {
            return false;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aReloadNamingABackendThisBuildLacksMovesNothingAndARevertAppliesCleanly() throws Exception {
        int portA = GatewayProcess.freePort();
        int portB = GatewayProcess.freePort();
        GatewayClient client = startOn(portA, ECHO_ONLY);

        Files.writeString(file, configText(portB, "{ backend: 'openai' }"), StandardCharsets.UTF_8);
        JsonNode refused = reload(client);

        assertThat(refused.get("applied").asBoolean()).isFalse();
        assertThat(refused.get("errors").toString()).contains("agent.backend");
        assertThat(gateway.port()).isEqualTo(portA);
        assertThat(listening(portB)).as("nothing listens on the refused port").isFalse();
        JsonNode config = client.rpc("config.get").body().at("/payload/config");
        assertThat(config.at("/gateway/port").asInt()).isEqualTo(portA);
        assertThat(config.at("/agent/backend").asText()).isEqualTo("echo");

        Files.writeString(file, configText(portA, "{ backend: 'echo' }"), StandardCharsets.UTF_8);
        JsonNode reverted = reload(client);

        assertThat(reverted.get("applied").asBoolean()).isTrue();
        assertThat(gateway.port()).isEqualTo(portA);
        assertThat(listening(portB)).isFalse();
        assertThat(client.rpc("config.get").body().at("/payload/config/gateway/port").asInt()).isEqualTo(portA);
        assertThat(client.webhookMessage("m-1", "room", "ann", "still here").status()).isEqualTo(202);
    }

    @Test
    void aBackendThatFailsToBuildAtReloadClosesTheNewListenerAndKeepsTheOldGeneration() throws Exception {
        // echo with delayMs 777 is one this table cannot build: it passes the build check, then fails in prepare.
        AgentBackends backends = new AgentBackends(Map.of("echo", (agent, context) -> {
            if (agent.echo().delayMs() == 777) {
                throw new IllegalArgumentException("agent.echo.delayMs: 777 cannot be built");
            }
            return new EchoBackend(context.scheduler(), Duration.ZERO);
        }));
        int portA = GatewayProcess.freePort();
        int portB = GatewayProcess.freePort();
        GatewayClient client = startOn(portA, backends);

        Files.writeString(file, configText(portB, "{ backend: 'echo', echo: { delayMs: 777 } }"), StandardCharsets.UTF_8);
        JsonNode refused = reload(client);

        assertThat(refused.get("applied").asBoolean()).isFalse();
        assertThat(refused.get("generation").asLong()).isEqualTo(1);
        assertThat(refused.get("errors").toString()).contains("777 cannot be built");
        assertThat(listening(portB)).as("the listener bound for the refused reload is closed").isFalse();
        assertThat(gateway.port()).isEqualTo(portA);
        assertThat(client.rpc("config.get").body().at("/payload/config/agent/echo/delayMs").asLong()).isZero();
        assertThat(client.webhookMessage("m-1", "room", "ann", "still here").status()).isEqualTo(202);
    }

    @Test
    void aListenerBoundForAReloadAnswers503UntilTheReloadCommits() throws Exception {
        int portA = GatewayProcess.freePort();
        int portB = GatewayProcess.freePort();
        file = dir.resolve("ferry.json5");
        // A turn of 3 s holds the reload in its drain for up to 10 s: the window in which B is bound, not serving.
        String agent = "{ backend: 'echo', echo: { delayMs: 3000 } }";
        String reloadSettings = ", reload: { deferralTimeoutMs: 10000 }";
        Files.writeString(file, configText(portA, agent).replace("port: " + portA, "port: " + portA + reloadSettings),
                StandardCharsets.UTF_8);
        gateway = Gateway.start(ConfigLoader.load(file), AgentBackends.BUILT_IN);
        GatewayClient client = new GatewayClient(gateway.url(), null);
        assertThat(client.webhookMessage("m-1", "busy", "ann", "a long turn").status()).isEqualTo(202);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> client.rpc("status").body().at("/payload/runningTurns").asInt() == 1);
        Files.writeString(file, configText(portB, agent).replace("port: " + portB, "port: " + portB + reloadSettings),
                StandardCharsets.UTF_8);

        var outcome = gateway.reload("test");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> listening(portB));
        GatewayClient onB = new GatewayClient(java.net.URI.create("http://127.0.0.1:" + portB), null);
        GatewayClient.Answer early = onB.get("/healthz", null);

        assertThat(outcome.isDone()).as("still draining").isFalse();
        assertThat(early.status()).isEqualTo(503);
        assertThat(early.body().at("/error/code").asText()).isEqualTo("NOT_SERVING");
        assertThat(outcome.get(20, java.util.concurrent.TimeUnit.SECONDS).applied()).isTrue();
        assertThat(onB.get("/healthz", null).status()).isEqualTo(200);
        // The old listener closes once it has answered what was in flight on it.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> !listening(portA));
    }

    @Test
    void startRefusesABackendThisBuildLacksWithAConfigurationError() throws Exception {
        file = dir.resolve("ferry.json5");
        Files.writeString(file, configText(0, "{ backend: 'openai' }"), StandardCharsets.UTF_8);

        assertThatThrownBy(() -> Gateway.start(ConfigLoader.load(file), ECHO_ONLY))
                .hasMessageContaining("agent.backend: \"openai\" is not available");
    }
}
