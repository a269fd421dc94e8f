package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.channel.ChannelEndpoint;
import dev.ferry.channel.EndpointLookup;
import dev.ferry.channel.webhook.WebhookInbound;
import dev.ferry.control.Json;
import dev.ferry.control.RpcMethods;
import dev.ferry.config.ConfigLoader;
import dev.ferry.config.GatewayConfig;
import dev.ferry.config.ReloadConfig;
import dev.ferry.config.Secret;
import dev.ferry.control.ws.ControlSocket;
import dev.ferry.events.EventHub;
import dev.ferry.intake.Intake;
import dev.ferry.intake.IntakeResponse;
import dev.ferry.journal.AppendResult;
import dev.ferry.journal.ForwardingJournal;
import dev.ferry.journal.InMemoryJournal;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.JournalUnavailableException;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayProcess;
import dev.ferry.testing.RawHttp;
import dev.ferry.time.WallClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The listener itself, over real sockets: it moves without cutting off the answer that moved it, and
 * the answers it gives for faults (a journal that cannot take writes, a handler that throws) are JSON
 * like every other. Some tests run a bare listener with the stages behind it replaced.
 */
class HttpApiIT {

    private static final Duration PATIENCE = Duration.ofSeconds(10);
    private static final String MESSAGE = "{\"messageId\":\"m1\",\"conversation\":\"c\",\"sender\":\"s\",\"text\":\"hi\"}";

    @TempDir
    Path dir;

    private Gateway gateway;
    private HttpApi listener;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (listener != null) {
            listener.close();
        }
    }

    @Test
    void configPatchThatMovesTheListenerIsAnsweredInJsonAsAppliedWithTheNewAddress() throws Exception {
        int before = GatewayProcess.freePort();
        int after = GatewayProcess.freePort();
        while (after == before) {
            after = GatewayProcess.freePort();
        }
        Path file = dir.resolve("ferry.json5");
        Files.writeString(file, "{ gateway: { port: " + before + " }, state: { dir: '" + dir.resolve("state") + "' } }",
                StandardCharsets.UTF_8);
        gateway = Gateway.start(ConfigLoader.load(file));
        GatewayClient old = new GatewayClient(gateway.url(), null);
        String hash = old.rpc("config.get").body().at("/payload/hash").asText();

        GatewayClient.Answer moved = old.rpc("config.patch",
                "{\"raw\":{\"gateway\":{\"port\":" + after + "}},\"baseHash\":\"" + hash + "\"}");

        assertThat(moved.status()).as(moved.raw()).isEqualTo(200);
        assertThat(moved.body()).as(moved.raw()).isNotNull();
        JsonNode payload = moved.body().get("payload");
        assertThat(payload.get("changed").asBoolean()).isTrue();
        assertThat(payload.at("/reload/applied").asBoolean()).isTrue();
        assertThat(payload.at("/reload/generation").asLong()).isEqualTo(2);
        assertThat(payload.at("/reload/url").asText()).isEqualTo("http://127.0.0.1:" + after);

        GatewayClient now = new GatewayClient(URI.create(payload.at("/reload/url").asText()), null);
        assertThat(now.rpc("config.get").body().at("/payload/hash").asText())
                .as("the answer's hash is current, so the caller's next edit is not a conflict")
                .isEqualTo(payload.get("hash").asText());
        assertThat(now.webhookMessage("m-after", "c", "s", "hi").status()).isEqualTo(202);
        await().atMost(PATIENCE).untilAsserted(() -> assertThatThrownBy(() -> old.get("/healthz", null))
                .as("the old port is closed once its answers are written").isInstanceOf(UncheckedIOException.class));
    }

    @Test
    void retiredListenerWritesTheAnswerInFlightAndThenCloses() {
        CompletableFuture<JsonNode> held = new CompletableFuture<>();
        listener = bareListener(new RpcMethods().add("held", params -> held), EndpointLookup.NONE);
        GatewayClient client = new GatewayClient(URI.create("http://127.0.0.1:" + listener.port()), null);
        CompletableFuture<GatewayClient.Answer> inFlight = CompletableFuture.supplyAsync(() -> client.rpc("held"));
        await().atMost(PATIENCE).until(() -> held.getNumberOfDependents() > 0);

        listener.retire();
        held.complete(Json.object().put("answered", true));

        GatewayClient.Answer answer = inFlight.join();
        assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
        assertThat(answer.body().at("/payload/answered").asBoolean()).isTrue();
        await().atMost(PATIENCE).untilAsserted(() -> assertThatThrownBy(() -> client.get("/healthz", null))
                .isInstanceOf(UncheckedIOException.class));
    }

    @Test
    void journalThatCannotTakeWritesIsAnswered503WithRetryAfterOnIntakeAndRpc() {
        var unavailable = new JournalUnavailableException("journal unavailable: the disk is full", new IOException("SQLITE_FULL"));
        var journal = new ForwardingJournal(new InMemoryJournal()) {
            @Override
            public CompletableFuture<AppendResult> append(InboundMessage message) {
                return CompletableFuture.failedFuture(unavailable);
            }
        };
        WebhookInbound webhook = new WebhookInbound(new Intake(journal, message -> { }, new SimpleMeterRegistry()), Secret.NONE,
                WallClock.SYSTEM);
        RpcMethods rpc = new RpcMethods().add("write", params -> CompletableFuture.failedFuture(unavailable));
        listener = bareListener(rpc, webhookAt(webhook));
        URI base = URI.create("http://127.0.0.1:" + listener.port());

        RawHttp.Answer hook = RawHttp.exchange(base, post("/channels/webhook/inbound", MESSAGE));
        RawHttp.Answer call = RawHttp.exchange(base, post("/rpc", "{\"method\":\"write\"}"));

        assertThat(hook.status()).as(hook.raw()).isEqualTo(503);
        assertThat(hook.header("Retry-After")).isEqualTo("5");
        assertThat(hook.raw()).isEqualTo("{\"accepted\":false,\"error\":{\"code\":\"JOURNAL_UNAVAILABLE\","
                + "\"message\":\"journal unavailable: the disk is full\"}}");
        assertThat(call.status()).as(call.raw()).isEqualTo(503);
        assertThat(call.header("Retry-After")).isEqualTo("5");
        assertThat(call.raw()).isEqualTo("{\"ok\":false,\"error\":{\"code\":\"JOURNAL_UNAVAILABLE\","
                + "\"message\":\"journal unavailable: the disk is full\"}}");
    }

    @Test
    void handlerThatThrowsIsAJson500WithoutTheExceptionText() {
        listener = bareListener(new RpcMethods(), path -> {
            throw new IllegalStateException("secret-detail-42");
        });

        RawHttp.Answer answer = RawHttp.exchange(URI.create("http://127.0.0.1:" + listener.port()),
                post("/channels/webhook/inbound", MESSAGE));

        assertThat(answer.status()).as(answer.raw()).isEqualTo(500);
        assertThat(answer.header("Content-Type")).startsWith("application/json");
        assertThat(answer.body().at("/error/code").asText()).isEqualTo("INTERNAL");
        assertThat(answer.body().get("ok").asBoolean(true)).isFalse();
        assertThat(answer.raw()).doesNotContain("secret-detail-42").doesNotContain("IllegalStateException");
    }

    /** The webhook's inbound side at its path, enabled: as the gateway's channels serve it. */
    private static EndpointLookup webhookAt(WebhookInbound webhook) {
        ChannelEndpoint endpoint = new ChannelEndpoint() {
            @Override
            public String path() {
                return "/channels/webhook/inbound";
            }

            @Override
            public CompletableFuture<IntakeResponse> handle(Headers headers, byte[] body) {
                return webhook.handle(headers.get("Authorization"), body);
            }
        };
        return path -> path.equals(endpoint.path())
                ? Optional.of(new EndpointLookup.Mounted("webhook", endpoint, true)) : Optional.empty();
    }

    /** A listener on an ephemeral loopback port, without a gateway token, serving the given RPCs and webhook. */
    private static HttpApi bareListener(RpcMethods rpc, EndpointLookup webhook) {
        GatewayConfig config = new GatewayConfig("127.0.0.1", 0, Secret.NONE, 1000, new ReloadConfig(1000, 1000));
        HttpApi api = new HttpApi(config, () -> Secret.NONE, rpc, webhook, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                () -> Json.object().put("ok", true), new ControlSocket(rpc, () -> Secret.NONE, () -> 1, "test", new EventHub()),
                List::of, path -> Optional.empty());
        api.start();
        api.serve();
        return api;
    }

    private static String post(String path, String body) {
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }
}
