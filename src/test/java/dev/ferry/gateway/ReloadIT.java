package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.Settled;
import dev.ferry.testing.ReplySink;

/**
 * Reloads and the config RPCs of SPEC 3.3 and 3.4 against a real gateway that runs from a real config
 * file: real HTTP in, a real reply sink out, the file on disk checked byte for byte.
 */
class ReloadIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration PATIENCE = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Path file;
    private ReplySink sink;
    private Gateway gateway;
    private GatewayClient client;

    @BeforeEach
    void createSink() throws Exception {
        file = dir.resolve("ferry.json5");
        sink = new ReplySink();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        sink.close();
    }

    /** A config file text: port 0, the state dir in the temp dir, replies to the sink, and {@code more} top-level keys. */
    private String configText(String more) {
        return "// written by ReloadIT\n{\n"
                + "  gateway: { port: 0 },\n"
                + "  state: { dir: '" + dir.resolve("state") + "' },\n"
                + "  channels: { webhook: { replyUrl: '" + sink.url() + "' } },\n"
                + (more.isEmpty() ? "" : "  " + more + ",\n")
                + "}\n";
    }

    private void startFrom(String text, String token) throws Exception {
        Files.writeString(file, text, StandardCharsets.UTF_8);
        gateway = Gateway.start(ConfigLoader.load(file));
        client = new GatewayClient(gateway.url(), token);
    }

    private JsonNode configGet() {
        GatewayClient.Answer answer = client.rpc("config.get");
        assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
        return answer.body().get("payload");
    }

    private GatewayClient.Answer edit(String method, JsonNode raw, String baseHash) {
        ObjectNode params = JSON.createObjectNode();
        params.set("raw", raw);
        params.put("baseHash", baseHash);
        return client.rpc(method, params.toString());
    }

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text.replace('\'', '"'));
    }

    private long generationByStatus() {
        return client.rpc("status").body().at("/payload/generation").asLong();
    }

    private String fileText() throws Exception {
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    @Test
    void reloadThatDisablesTheWebhookAnswersItsPath404AndOneThatEnablesItServesItAgain() throws Exception {
        startFrom(configText(""), null);
        assertThat(client.webhookMessage("on-1", "c", "ann", "hi").status()).isEqualTo(202);

        GatewayClient.Answer off = edit("config.patch", json("{'channels':{'webhook':{'enabled':false}}}"),
                configGet().get("hash").asText());
        assertThat(off.body().at("/payload/reload/applied").asBoolean()).as(off.raw()).isTrue();
        GatewayClient.Answer refused = client.webhookMessage("off-1", "c", "ann", "hi");
        assertThat(refused.status()).as(refused.raw()).isEqualTo(404);
        assertThat(refused.raw()).isEqualTo("{\"ok\":false,\"error\":{\"code\":\"CHANNEL_DISABLED\","
                + "\"message\":\"the webhook channel is not enabled\"}}");

        GatewayClient.Answer on = edit("config.patch", json("{'channels':{'webhook':{'enabled':true}}}"),
                configGet().get("hash").asText());
        assertThat(on.body().at("/payload/reload/applied").asBoolean()).as(on.raw()).isTrue();
        assertThat(client.webhookMessage("on-2", "c", "ann", "hi").status()).isEqualTo(202);
    }

    @Test
    void invalidFileAtReloadLeavesTheGatewayServingWithTheOldConfigAndReportsTheError() throws Exception {
        startFrom(configText(""), null);
        JsonNode configBefore = configGet();
        Files.writeString(file, configText("messages: { queue: { cap: 0 } }"), StandardCharsets.UTF_8);

        GatewayClient.Answer reload = client.rpc("gateway.reload");

        assertThat(reload.status()).as(reload.raw()).isEqualTo(200);
        JsonNode outcome = reload.body().get("payload");
        assertThat(outcome.get("applied").asBoolean()).isFalse();
        assertThat(outcome.get("generation").asLong()).isEqualTo(1);
        assertThat(outcome.get("errors")).extracting(JsonNode::asText)
                .anySatisfy(error -> assertThat(error).contains("messages.queue.cap"));
        assertThat(gateway.generation()).isEqualTo(1);
        assertThat(generationByStatus()).isEqualTo(1);
        assertThat(configGet()).isEqualTo(configBefore);

        GatewayClient.Answer accepted = client.webhookMessage("i-1", "after-bad-reload", "ann", "still here?");
        assertThat(accepted.status()).as(accepted.raw()).isEqualTo(202);
        await().atMost(PATIENCE).until(() -> sink.accepted().size() == 1);
        assertThat(sink.accepted().get(0).body().get("text").asText()).isEqualTo("echo: still here?");
    }

    @Test
    void reloadOfADeletedFileIsRefusedInTheAnswerAndTheGatewayRunsOnWithItsToken() throws Exception {
        String text = configText("").replace("gateway: { port: 0 }", "gateway: { port: 0, auth: { token: 'gw-1234' } }");
        startFrom(text, "gw-1234");
        int port = gateway.port();
        Files.delete(file);

        GatewayClient.Answer reload = client.rpc("gateway.reload");

        assertThat(reload.status()).as(reload.raw()).isEqualTo(200);
        assertThat(reload.body().at("/payload/applied").asBoolean()).isFalse();
        assertThat(reload.body().at("/payload/errors")).extracting(JsonNode::asText)
                .containsExactly(file + ": does not exist");
        assertThat(gateway.port()).isEqualTo(port);
        assertThat(gateway.generation()).isEqualTo(1);
        assertThat(new GatewayClient(gateway.url(), null).rpc("status").status()).as("the token still guards").isEqualTo(401);
        GatewayClient.Answer accepted = client.webhookMessage("d-1", "after-delete", "ann", "still here?");
        assertThat(accepted.status()).as(accepted.raw()).isEqualTo(202);
        await().atMost(PATIENCE).until(() -> sink.accepted().size() == 1);
    }

    @Test
    void patchWithAStaleBaseHashIsRefusedAndWritesNothing() throws Exception {
        startFrom(configText(""), null);
        String hashReadEarlier = configGet().get("hash").asText();
        // Someone else edits the file after our config.get.
        String theirEdit = configText("messages: { queue: { cap: 7 } }");
        Files.writeString(file, theirEdit, StandardCharsets.UTF_8);
        byte[] bytesBefore = Files.readAllBytes(file);

        GatewayClient.Answer answer = edit("config.patch", json("{'messages':{'queue':{'cap':5}}}"), hashReadEarlier);

        assertThat(answer.status()).as(answer.raw()).isEqualTo(409);
        assertThat(answer.body().get("ok").asBoolean()).isFalse();
        assertThat(answer.body().at("/error/code").asText()).isEqualTo("CONFLICT");
        assertThat(Files.readAllBytes(file)).isEqualTo(bytesBefore);
        assertThat(dir.resolve("ferry.json5.bak")).doesNotExist();
        assertThat(gateway.generation()).isEqualTo(1);
    }

    @Test
    void patchThatChangesNothingNeitherWritesNorReloads() throws Exception {
        startFrom(configText("messages: { queue: { cap: 20 } }"), null);
        byte[] bytesBefore = Files.readAllBytes(file);
        FileTime modifiedBefore = Files.getLastModifiedTime(file);
        String hash = configGet().get("hash").asText();

        // Given as JSON5 text, the way an operator would type it.
        GatewayClient.Answer answer = edit("config.patch",
                JSON.getNodeFactory().textNode("{ messages: { queue: { cap: 20 } } }"), hash);

        assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
        JsonNode payload = answer.body().get("payload");
        assertThat(payload.get("changed").asBoolean()).isFalse();
        assertThat(payload.get("hash").asText()).isEqualTo(hash);
        assertThat(payload.has("reload")).isFalse();
        assertThat(Files.readAllBytes(file)).isEqualTo(bytesBefore);
        assertThat(Files.getLastModifiedTime(file)).isEqualTo(modifiedBefore);
        assertThat(dir.resolve("ferry.json5.bak")).doesNotExist();
        assertThat(gateway.generation()).isEqualTo(1);
        assertThat(generationByStatus()).isEqualTo(1);
    }

    @Test
    void patchIsValidatedWrittenAtomicallyWithABackupAndReloaded() throws Exception {
        String original = configText("");
        startFrom(original, null);
        String hash = configGet().get("hash").asText();

        GatewayClient.Answer answer = edit("config.patch", json("{'messages':{'inbound':{'debounceMs':300}}}"), hash);

        assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
        JsonNode payload = answer.body().get("payload");
        assertThat(payload.get("changed").asBoolean()).isTrue();
        assertThat(payload.at("/reload/applied").asBoolean()).isTrue();
        assertThat(payload.at("/reload/generation").asLong()).isEqualTo(2);
        assertThat(gateway.generation()).isEqualTo(2);
        assertThat(Files.readString(dir.resolve("ferry.json5.bak"))).isEqualTo(original);
        assertThat(ConfigLoader.load(file).config().messages().inbound().debounceMs()).isEqualTo(300);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("ferry.json5", "ferry.json5.bak", "state");
        }
        String newHash = payload.get("hash").asText();
        assertThat(newHash).isEqualTo(ConfigLoader.load(file).hash());
        assertThat(configGet().get("hash").asText()).isEqualTo(newHash);
        assertThat(configGet().at("/config/messages/inbound/debounceMs").asInt()).isEqualTo(300);

        client.webhookMessage("b-1", "burst", "ann", "one");
        client.webhookMessage("b-2", "burst", "ann", "two");
        client.webhookMessage("b-3", "burst", "ann", "three");

        await().atMost(PATIENCE).until(() -> sink.accepted().size() == 1);
        assertThat(sink.accepted().get(0).body().get("text").asText()).isEqualTo("echo: one\ntwo\nthree");
        Settled.awaitSettled(client, PATIENCE);
        assertThat(sink.accepted()).hasSize(1);
    }

    @Test
    void invalidPatchIsRefusedWithThePathAndWritesNothing() throws Exception {
        startFrom(configText(""), null);
        byte[] bytesBefore = Files.readAllBytes(file);
        String hash = configGet().get("hash").asText();

        GatewayClient.Answer answer = edit("config.patch", json("{'messages':{'queue':{'cap':0}}}"), hash);

        assertThat(answer.status()).as(answer.raw()).isEqualTo(400);
        assertThat(answer.body().at("/error/code").asText()).isEqualTo("INVALID_CONFIG");
        assertThat(answer.body().at("/error/message").asText()).contains("messages.queue.cap");
        assertThat(Files.readAllBytes(file)).isEqualTo(bytesBefore);
        assertThat(dir.resolve("ferry.json5.bak")).doesNotExist();
        assertThat(gateway.generation()).isEqualTo(1);
        assertThat(configGet().get("hash").asText()).isEqualTo(hash);
    }

    @Test
    void configGetRedactsSecretsAndAPatchSendingTheRedactedValueBackKeepsTheSecret() throws Exception {
        String text = "{\n"
                + "  gateway: { port: 0, auth: { token: 'gw-secret-1234' } },\n"
                + "  state: { dir: '" + dir.resolve("state") + "' },\n"
                + "  channels: { webhook: { token: 'wh-secret-5678', replyUrl: '" + sink.url() + "' } },\n"
                + "}\n";
        startFrom(text, "gw-secret-1234");

        GatewayClient.Answer got = client.rpc("config.get");
        assertThat(got.status()).as(got.raw()).isEqualTo(200);
        assertThat(got.raw()).doesNotContain("gw-secret-1234").doesNotContain("wh-secret-5678");
        JsonNode view = got.body().get("payload");
        assertThat(view.at("/config/gateway/auth/token").asText()).isEqualTo("<redacted>");
        assertThat(view.at("/config/channels/webhook/token").asText()).isEqualTo("<redacted>");

        // Read-modify-write of the whole tree config.get showed, secrets still redacted.
        ObjectNode tree = (ObjectNode) view.get("config").deepCopy();
        ((ObjectNode) tree.at("/messages/queue")).put("cap", 9);
        GatewayClient.Answer applied = edit("config.apply", tree, view.get("hash").asText());

        assertThat(applied.status()).as(applied.raw()).isEqualTo(200);
        assertThat(applied.body().at("/payload/changed").asBoolean()).isTrue();
        assertThat(applied.body().at("/payload/reload/applied").asBoolean()).isTrue();
        assertThat(fileText()).contains("gw-secret-1234").contains("wh-secret-5678").doesNotContain("<redacted>");
        assertThat(ConfigLoader.load(file).config().messages().queue().cap()).isEqualTo(9);

        // The real tokens still work; the placeholder is not a token.
        assertThat(client.rpc("status").status()).isEqualTo(200);
        assertThat(new GatewayClient(gateway.url(), "<redacted>").rpc("status").status()).isEqualTo(401);
        String message = "{\"messageId\":\"s-1\",\"conversation\":\"secret\",\"sender\":\"ann\",\"text\":\"hi\"}";
        assertThat(client.postWebhook(message, "<redacted>").status()).isEqualTo(401);
        GatewayClient.Answer accepted = client.postWebhook(message, "wh-secret-5678");
        assertThat(accepted.status()).as(accepted.raw()).isEqualTo(202);
        await().atMost(PATIENCE).until(() -> sink.accepted().size() == 1);
        assertThat(sink.accepted().get(0).body().get("text").asText()).isEqualTo("echo: hi");
    }

    @Test
    void reloadFlushesWhatADebounceWindowHeld() throws Exception {
        startFrom(configText("messages: { inbound: { debounceMs: 600000 } }"), null);
        // Two conversations, so each flushed batch gets its own session and its own reply.
        client.webhookMessage("h-1", "held-1", "cat", "held for ten minutes");
        client.webhookMessage("h-2", "held-2", "dan", "me too");
        assertThat(client.rpc("status").body().at("/payload/bufferedDebounceKeys").asInt()).isEqualTo(2);
        assertThat(sink.requests()).isEmpty();

        GatewayClient.Answer reload = client.rpc("gateway.reload");

        assertThat(reload.status()).as(reload.raw()).isEqualTo(200);
        assertThat(reload.body().at("/payload/applied").asBoolean()).isTrue();
        assertThat(reload.body().at("/payload/generation").asLong()).isEqualTo(2);
        await().atMost(PATIENCE).until(() -> sink.accepted().size() == 2);
        assertThat(sink.accepted()).extracting(r -> r.body().get("text").asText())
                .containsExactlyInAnyOrder("echo: held for ten minutes", "echo: me too");
        assertThat(client.rpc("status").body().at("/payload/bufferedDebounceKeys").asInt()).isZero();
    }

    @Test
    void listenerStaysBoundAcrossAReload() throws Exception {
        startFrom(configText("agent: { echo: { delayMs: 1500 } }"), null);
        int portBefore = gateway.port();
        // A running turn makes the reload wait in the draining state, so a request can arrive during it.
        assertThat(client.webhookMessage("l-1", "before", "ann", "slow one").status()).isEqualTo(202);
        await().atMost(PATIENCE).until(() -> client.rpc("status").body().at("/payload/runningTurns").asInt() == 1);

        CompletableFuture<GatewayClient.Answer> reload = CompletableFuture.supplyAsync(() -> client.rpc("gateway.reload"));
        await().atMost(PATIENCE).until(() -> "draining".equals(
                client.get("/healthz", null).body().path("state").asText()));
        GatewayClient.Answer during = client.webhookMessage("l-2", "during", "bob", "sent while draining");
        assertThat(during.status()).as(during.raw()).isEqualTo(202);
        assertThat(reload).isNotDone();

        GatewayClient.Answer outcome = reload.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertThat(outcome.body().at("/payload/applied").asBoolean()).as(outcome.raw()).isTrue();
        assertThat(gateway.port()).isEqualTo(portBefore);
        GatewayClient.Answer health = client.get("/healthz", null);
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.body().get("state").asText()).isEqualTo("running");
        assertThat(health.body().get("generation").asLong()).isEqualTo(2);
        GatewayClient.Answer after = client.webhookMessage("l-3", "after", "cat", "sent after");
        assertThat(after.status()).as(after.raw()).isEqualTo(202);

        await().atMost(PATIENCE).until(() -> sink.accepted().size() == 3);
        assertThat(sink.accepted()).extracting(r -> r.body().get("text").asText())
                .containsExactlyInAnyOrder("echo: slow one", "echo: sent while draining", "echo: sent after");
    }

    @Test
    void aTurnAbortedByTheDeferralTimeoutRunsAgainInTheNewGenerationAndIsAnsweredOnce() throws Exception {
        startFrom(configText("agent: { echo: { delayMs: 1500 } }"), null);
        Files.writeString(file, configText("agent: { echo: { delayMs: 1500 } }").replace(
                "gateway: { port: 0 }", "gateway: { port: 0, reload: { deferralTimeoutMs: 100 } }"));
        // The new deferral applies from the next reload on; the first one makes it current.
        assertThat(client.rpc("gateway.reload").body().at("/payload/applied").asBoolean()).isTrue();
        assertThat(client.webhookMessage("p-1", "parked", "ann", "interrupted by a reload").status()).isEqualTo(202);
        await().atMost(PATIENCE).until(() -> client.rpc("status").body().at("/payload/runningTurns").asInt() == 1);

        GatewayClient.Answer reload = client.rpc("gateway.reload");

        assertThat(reload.body().at("/payload/applied").asBoolean()).as(reload.raw()).isTrue();
        assertThat(reload.body().at("/payload/generation").asLong()).isEqualTo(3);
        await().atMost(PATIENCE).until(() -> sink.accepted().size() == 1);
        assertThat(sink.accepted().get(0).body().get("text").asText()).isEqualTo("echo: interrupted by a reload");
        assertThat(sink.accepted().get(0).body().get("inReplyTo")).extracting(JsonNode::asText).containsExactly("p-1");
        // Nothing left to run or send: the parked turn ran again once, and no second reply can come.
        Settled.awaitSettled(client, PATIENCE);
        assertThat(sink.accepted()).hasSize(1);
        assertThat(client.rpc("status").body().at("/payload/journal/pending").asInt()).isZero();
    }

    @Test
    void reloadChangesQueueModeForTheNextMessages() throws Exception {
        startFrom(configText(""), null);
        String hash = configGet().get("hash").asText();

        GatewayClient.Answer patched = edit("config.patch",
                json("{'messages':{'queue':{'mode':'followup','debounceMs':0}},'agent':{'echo':{'delayMs':300}}}"), hash);
        assertThat(patched.status()).as(patched.raw()).isEqualTo(200);
        assertThat(patched.body().at("/payload/reload/applied").asBoolean()).isTrue();

        client.webhookMessage("f-1", "busy", "ann", "first");
        client.webhookMessage("f-2", "busy", "ann", "second");
        client.webhookMessage("f-3", "busy", "ann", "third");

        // In collect mode (the default before the patch) the last two would have merged into one reply.
        await().atMost(PATIENCE).until(() -> sink.accepted().size() == 3);
        assertThat(sink.accepted()).extracting(r -> r.body().get("text").asText())
                .containsExactly("echo: first", "echo: second", "echo: third");
        Settled.awaitSettled(client, PATIENCE);
        assertThat(sink.accepted()).hasSize(3);
    }
}
