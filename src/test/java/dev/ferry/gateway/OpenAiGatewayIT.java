package dev.ferry.gateway;

import static dev.ferry.testing.WsClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.FakeOpenAiServer;
import dev.ferry.testing.FakeOpenAiServer.Behaviour;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.ReplySink;
import dev.ferry.testing.Settled;
import dev.ferry.testing.WsClient;

/**
 * A gateway with {@code agent.backend: "openai"} against a real OpenAI-compatible server on loopback:
 * streamed and whole replies, what the request carries, failures that end as error replies, and
 * interrupt and steer closing the model's connection. Every message is accounted for in status.
 */
class OpenAiGatewayIT {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private FakeOpenAiServer model;
    private ReplySink sink;
    private Gateway gateway;
    private GatewayClient client;
    private final List<WsClient> sockets = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        sockets.forEach(WsClient::close);
        if (gateway != null) {
            gateway.close();
        }
        if (sink != null) {
            sink.close();
        }
        if (model != null) {
            model.close();
        }
    }

    private void start(String openai, String more) throws Exception {
        model = model == null ? FakeOpenAiServer.start() : model;
        sink = new ReplySink();
        gateway = Gateway.start(ConfigLoader.parse("{ gateway: { port: 0 }, state: { dir: '" + dir.resolve("state")
                + "' }, channels: { webhook: { replyUrl: '" + sink.url() + "' } }, agent: { backend: 'openai',"
                + " systemPrompt: 'Be brief.', historyTurns: 1, openai: { baseUrl: '" + model.baseUrl() + "', model: 'm-1',"
                + (openai.contains("apiKeyEnv") ? "" : " apiKeyEnv: 'FERRY_TEST_UNSET_KEY',") + openai.replaceFirst("^, ", " ")
                + " } }" + more + " }", null));
        client = new GatewayClient(gateway.url(), null);
    }

    private void send(String id, String conversation, String text) {
        assertThat(client.webhookMessage(id, conversation, "ann", text).status()).isEqualTo(202);
    }

    private List<String> repliesTo(String conversation) {
        List<String> texts = new ArrayList<>();
        sink.accepted().stream().filter(r -> r.body().path("conversation").asText().equals(conversation))
                .forEach(r -> texts.add(r.body().path("text").asText()));
        return texts;
    }

    private JsonNode status() {
        return client.rpc("status").body().path("payload");
    }

    private void assertEveryMessageAccountedFor() {
        JsonNode journal = status().path("journal");
        assertThat(journal.path("pending").asLong()).isZero();
        assertThat(journal.path("received").asLong()).isEqualTo(journal.path("done").asLong()
                + journal.path("dropped").asLong() + journal.path("superseded").asLong());
    }

    @Test
    void aStreamedReplyArrivesWholeAfterItsPiecesReachedAWebSocketClientAndTheRequestCarriesTheContextInOrder()
            throws Exception {
        start("", "");
        model.enqueue(Behaviour.reply("first answer"), Behaviour.reply("second answer").withChunks(4)
                .withReasoning("let me think").withKeepAlives().withUsage(12, 3));
        send("m-1", "c", "first question");
        await().atMost(PATIENCE).until(() -> repliesTo("c").size() == 1);

        WsClient watcher = WsClient.open(gateway.url());
        sockets.add(watcher);
        watcher.call("hello", "connect", json("{'subscribe':{'all':true}}"));
        send("m-2", "c", "second question");
        StringBuilder pieces = new StringBuilder();
        JsonNode chat;
        while (!(chat = watcher.nextEvent("chat")).path("final").asBoolean()) {
            pieces.append(chat.path("text").asText());
        }
        assertThat(pieces.toString()).as("the deltas came first, and the reasoning is not among them")
                .isEqualTo("second answer");
        assertThat(chat.path("text").asText()).isEqualTo("second answer");
        await().atMost(PATIENCE).until(() -> repliesTo("c").size() == 2);
        assertThat(repliesTo("c")).containsExactly("first answer", "second answer");

        FakeOpenAiServer.Received second = model.requests().get(1);
        assertThat(second.path()).isEqualTo("/v1/chat/completions");
        assertThat(second.body().path("model").asText()).isEqualTo("m-1");
        assertThat(second.body().path("stream").asBoolean()).isTrue();
        assertThat(second.messages()).containsExactly("system: Be brief.", "user: first question",
                "assistant: first answer", "user: second question");
        assertThat(second.header("Authorization")).as("no key configured, none sent").isEmpty();
        assertEveryMessageAccountedFor();
    }

    @Test
    void aWholeReplyArrivesWhenStreamingIsOff() throws Exception {
        start(", stream: false", "");
        model.enqueue(Behaviour.reply("all at once"));
        send("m-1", "c", "hi");
        await().atMost(PATIENCE).until(() -> repliesTo("c").size() == 1);
        assertThat(repliesTo("c")).containsExactly("all at once");
        assertThat(model.requests().get(0).body().path("stream").asBoolean()).isFalse();
    }

    @Test
    void aRateLimitIsWaitedOutAndAServerErrorStormEndsInAnErrorReply() throws Exception {
        start(", maxRetries: 2", "");
        model.enqueue(Behaviour.error(429, "slow down").withRetryAfter("1"), Behaviour.reply("made it"));
        send("m-1", "a", "please");
        await().atMost(PATIENCE).until(() -> repliesTo("a").size() == 1);
        assertThat(repliesTo("a")).containsExactly("made it");
        long retriedAfter = model.requests().get(1).receivedAtMillis() - model.requests().get(0).receivedAtMillis();
        assertThat(retriedAfter).as("Retry-After: 1 was honoured").isGreaterThanOrEqualTo(900);

        model.byDefault(Behaviour.error(500, "overloaded"));
        send("m-2", "b", "again");
        await().atMost(PATIENCE).until(() -> repliesTo("b").size() == 1);
        assertThat(repliesTo("b").get(0)).startsWith("Sorry, I could not answer that:");
        assertThat(status().path("agentError").path("kind").asText()).isEqualTo("server_error");
        assertEveryMessageAccountedFor();
    }

    @Test
    void aServerThatNeverAnswersHitsTheTimeoutAndTheUserGetsTheErrorReply() throws Exception {
        start(", firstTokenTimeoutMs: 300, maxRetries: 0", "");
        model.byDefault(Behaviour.hang());
        send("m-1", "c", "anyone there?");
        await().atMost(PATIENCE).until(() -> repliesTo("c").size() == 1);
        assertThat(repliesTo("c").get(0)).startsWith("Sorry, I could not answer that:");
        assertThat(status().path("agentError").path("kind").asText()).isEqualTo("timeout");
        model.requests().get(0).awaitClientClose(PATIENCE);
        assertEveryMessageAccountedFor();
    }

    @Test
    void aWrongKeyIsReportedOnceInStatusAndNeverShown() throws Exception {
        start(", apiKeyEnv: 'PATH'", "");
        model.byDefault(Behaviour.error(401, "invalid api key").withAuthorizationEchoed());
        send("m-1", "c", "hi");
        await().atMost(PATIENCE).until(() -> repliesTo("c").size() == 1);
        assertThat(model.requests()).as("a 401 is not retried").hasSize(1);
        String path = System.getenv("PATH");
        assertThat(repliesTo("c").get(0)).doesNotContain(path);
        assertThat(status().toString()).doesNotContain(path);
        assertThat(status().path("agentError").path("kind").asText()).isEqualTo("unauthorized");
        assertThat(client.rpc("config.get").raw()).doesNotContain(path);
    }

    @Test
    void anInterruptMidStreamClosesTheModelsConnectionAndOnlyTheNewMessageIsAnswered() throws Exception {
        start("", ", messages: { queue: { mode: 'interrupt' } }");
        model.enqueue(Behaviour.reply("a long answer that never ends").withChunks(20)
                .withDelays(Duration.ZERO, Duration.ofMillis(500)), Behaviour.reply("the new answer"));
        send("m-1", "c", "tell me everything");
        model.awaitRequest(0, PATIENCE);
        send("m-2", "c", "actually, stop");

        model.requests().get(0).awaitClientClose(PATIENCE);
        await().atMost(PATIENCE).until(() -> repliesTo("c").size() == 1);
        Settled.awaitSettled(client, PATIENCE);
        assertThat(repliesTo("c")).containsExactly("the new answer");
        assertThat(status().path("journal").path("superseded").asLong()).isEqualTo(1);
        assertEveryMessageAccountedFor();
    }

    @Test
    void aSteeredMessageRestartsTheModelCallWithItAndExactlyOneReplyAnswersBoth() throws Exception {
        start("", ", messages: { queue: { mode: 'steer' } }");
        model.enqueue(Behaviour.reply("partial answer that is thrown away").withChunks(20)
                .withDelays(Duration.ZERO, Duration.ofMillis(500)), Behaviour.reply("one answer for both"));
        WsClient watcher = WsClient.open(gateway.url());
        sockets.add(watcher);
        watcher.call("hello", "connect", json("{'subscribe':{'all':true}}"));
        send("m-1", "c", "first part");
        model.awaitRequest(0, PATIENCE);
        assertThat(watcher.nextEvent("chat").path("final").asBoolean()).as("a piece of the partial answer").isFalse();
        send("m-2", "c", "second part");
        JsonNode chat;
        boolean voided = false;
        StringBuilder after = new StringBuilder();
        while (!(chat = watcher.nextEvent("chat")).path("final").asBoolean()) {
            if (chat.path("restart").asBoolean()) {
                voided = true;
                after.setLength(0);
            } else {
                after.append(chat.path("text").asText());
            }
        }
        assertThat(voided).as("a watcher is told the partial answer is void").isTrue();
        assertThat(after.toString()).isEqualTo("one answer for both");

        FakeOpenAiServer.Received restarted = model.awaitRequest(1, PATIENCE);
        model.requests().get(0).awaitClientClose(PATIENCE);
        assertThat(restarted.messages()).endsWith("user: second part");
        assertThat(String.join("\n", restarted.messages())).contains("first part");
        await().atMost(PATIENCE).until(() -> repliesTo("c").size() == 1);
        Settled.awaitSettled(client, PATIENCE);
        assertThat(repliesTo("c")).containsExactly("one answer for both");
        assertThat(sink.accepted().get(0).body().path("inReplyTo").toString()).isEqualTo("[\"m-1\",\"m-2\"]");
        assertEveryMessageAccountedFor();
    }
}
