package dev.ferry.gateway;

import static dev.ferry.testing.WsClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.WsClient;

/**
 * {@code chat.send}, {@code chat.history} and the {@code chat}, {@code queue} and {@code status} events
 * over {@code GET /ws}, against a real gateway with the echo agent and the JDK's WebSocket client.
 */
class ChatOverWebSocketIT {

    @TempDir
    Path dir;

    private Gateway gateway;
    private final List<WsClient> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(WsClient::close);
        if (gateway != null) {
            gateway.close();
        }
    }

    private void start(String more) throws Exception {
        gateway = Gateway.start(ConfigLoader.parse("{ gateway: { port: 0 }, state: { dir: '" + dir.resolve("state")
                + "' }" + more + " }", null));
    }

    private WsClient connected(String connectParams) {
        WsClient client = WsClient.open(gateway.url());
        clients.add(client);
        JsonNode hello = client.call("hello", "connect", connectParams == null ? null : json(connectParams));
        assertThat(hello.path("ok").asBoolean()).as("%s", hello).isTrue();
        return client;
    }

    private static JsonNode payloadOf(JsonNode response) {
        assertThat(response.path("ok").asBoolean()).as("%s", response).isTrue();
        return response.path("payload");
    }

    @Test
    void aSentMessageIsAnsweredAfterItsCommitAndItsReplyStreamsToTheSenderThenStaysInHistory() throws Exception {
        start("");
        WsClient client = connected(null);

        JsonNode sent = payloadOf(client.call("1", "chat.send", json("{'conversation':'c1','text':'hello','messageId':'m-1'}")));
        assertThat(sent.path("duplicate").asBoolean()).isFalse();
        assertThat(sent.path("seq").asLong()).isPositive();
        assertThat(sent.path("messageId").asText()).isEqualTo("m-1");

        // Echo streams its reply in pieces before the whole of it is committed.
        StringBuilder pieces = new StringBuilder();
        JsonNode chat;
        while (!(chat = client.nextEvent("chat")).path("final").asBoolean()) {
            assertThat(chat.path("conversation").asText()).isEqualTo("c1");
            pieces.append(chat.path("text").asText());
        }
        assertThat(pieces.toString()).isEqualTo("echo: hello");
        assertThat(chat.path("text").asText()).isEqualTo("echo: hello");
        assertThat(chat.path("conversation").asText()).isEqualTo("c1");
        assertThat(chat.path("inReplyTo").toString()).isEqualTo("[\"m-1\"]");
        String replyId = chat.path("replyId").asText();
        assertThat(replyId).startsWith("fr-");

        JsonNode history = payloadOf(client.call("2", "chat.history", json("{'conversation':'c1'}")));
        assertThat(history.path("sessionKey").asText()).isEqualTo("agent:main:control:default:c1");
        assertThat(history.path("exchanges")).hasSize(1);
        assertThat(history.path("exchanges").get(0).path("replyId").asText()).isEqualTo(replyId);
        assertThat(history.path("exchanges").get(0).path("reply").asText()).isEqualTo("echo: hello");
        assertThat(history.path("exchanges").get(0).path("inReplyTo").toString()).isEqualTo("[\"m-1\"]");
    }

    @Test
    void aResendWithTheSameMessageIdIsADuplicateAndNeverASecondTurn() throws Exception {
        start("");
        WsClient client = connected(null);
        JsonNode first = payloadOf(client.call("1", "chat.send", json("{'conversation':'c','text':'once','messageId':'m-1'}")));
        awaitFinal(client, "echo: once");

        // As after a lost connection: a new connection sends the same message again.
        WsClient again = connected(null);
        JsonNode resent = payloadOf(again.call("2", "chat.send", json("{'conversation':'c','text':'once','messageId':'m-1'}")));
        assertThat(resent.path("duplicate").asBoolean()).isTrue();
        assertThat(resent.path("seq").asLong()).isEqualTo(first.path("seq").asLong());
        payloadOf(again.call("3", "chat.send", json("{'conversation':'c','text':'next','messageId':'m-2'}")));
        assertThat(awaitFinal(again, null).path("text").asText()).as("the next reply is the next message's, not a second 'once'")
                .isEqualTo("echo: next");
        JsonNode history = payloadOf(again.call("4", "chat.history", json("{'conversation':'c'}")));
        assertThat(history.path("exchanges")).extracting(exchange -> exchange.path("prompt").asText())
                .containsExactly("once", "next");
    }

    @Test
    void aMessageBehindABusyTurnIsQueuedThenStartsItsOwnTurn() throws Exception {
        start(", agent: { echo: { delayMs: 600 } }, messages: { queue: { mode: 'followup', debounceMs: 0 } }");
        WsClient client = connected(null);
        payloadOf(client.call("1", "chat.send", json("{'conversation':'busy','text':'first','messageId':'a'}")));
        JsonNode started = client.nextEvent("queue");
        assertThat(started.path("change").asText()).isEqualTo("started");
        assertThat(started.path("messageIds").toString()).isEqualTo("[\"a\"]");

        payloadOf(client.call("2", "chat.send", json("{'conversation':'busy','text':'second','messageId':'b'}")));
        JsonNode queued = client.nextEvent("queue");
        assertThat(queued.path("change").asText()).isEqualTo("queued");
        assertThat(queued.path("messageId").asText()).isEqualTo("b");
        assertThat(queued.path("queued").asInt()).isEqualTo(1);
        assertThat(queued.path("conversation").asText()).isEqualTo("busy");

        JsonNode next = client.nextEvent("queue");
        assertThat(next.path("change").asText()).isEqualTo("started");
        assertThat(next.path("messageIds").toString()).isEqualTo("[\"b\"]");
    }

    @Test
    void aClientSeesOnlyTheConversationsItFollowsUnlessItFollowsAll() throws Exception {
        start("");
        WsClient sender = connected(null);
        WsClient watcher = connected("{'subscribe':{'all':true}}");
        WsClient other = connected("{'subscribe':{'conversations':['elsewhere']}}");

        payloadOf(sender.call("1", "chat.send", json("{'conversation':'mine','text':'hi'}")));
        assertThat(awaitFinal(sender, "echo: hi").path("conversation").asText()).isEqualTo("mine");
        assertThat(awaitFinal(watcher, "echo: hi").path("conversation").asText()).isEqualTo("mine");

        // A later reply in its own conversation is the first chat event the other client sees.
        payloadOf(sender.call("2", "chat.send", json("{'conversation':'elsewhere','text':'there'}")));
        assertThat(awaitFinal(other, null).path("text").asText()).isEqualTo("echo: there");
    }

    @Test
    void aClientThatNeverReadsDoesNotDelayAnotherClientsReplies() throws Exception {
        start("");
        // It follows every conversation and reads nothing: its frames pile up behind its own socket.
        WsClient stalled = WsClient.open(gateway.url(), null, false);
        clients.add(stalled);
        stalled.sendText("{\"type\":\"req\",\"id\":\"c\",\"method\":\"connect\",\"params\":{\"subscribe\":{\"all\":true}}}");
        WsClient lively = connected(null);
        String padding = "x".repeat(8 * 1024);
        int messages = 200;
        for (int i = 0; i < messages; i++) {
            payloadOf(lively.call("s" + i, "chat.send", json("{'conversation':'c" + (i % 20) + "','text':'m" + i + " "
                    + padding + "'}")));
        }
        List<String> replies = new ArrayList<>();
        for (int i = 0; i < messages; i++) {
            replies.add(awaitFinal(lively, null).path("text").asText().split(" ")[1]);
        }
        assertThat(replies).hasSize(messages).doesNotHaveDuplicates();
        assertThat(stalled.closed().isDone() ? stalled.closed().join() : 1008).as("closed, if at all, for its overflow")
                .isEqualTo(1008);
    }

    @Test
    void aClientThatAskedForStatusGetsItAfterTheGatewayChanges() throws Exception {
        start("");
        WsClient panel = connected("{'subscribe':{'status':true}}");
        WsClient sender = connected(null);
        payloadOf(sender.call("1", "chat.send", json("{'conversation':'s','text':'count me'}")));
        awaitFinal(sender, "echo: count me");
        await().atMost(WsClient.PATIENCE).until(() -> panel.nextEvent("status").path("sessions").asLong() == 1);
    }

    @Test
    void badChatParamsAreRefusedNamingTheFieldAndNothingIsJournaled() throws Exception {
        start("");
        WsClient client = connected(null);
        assertRefused(client.call("1", "chat.send", json("{'text':'no conversation'}")), "params.conversation: required");
        assertRefused(client.call("2", "chat.send", json("{'conversation':'c','text':'   '}")), "params.text: must not be blank");
        assertRefused(client.call("3", "chat.send", json("{'conversation':'c','text':7}")), "params.text: must be a string");
        assertRefused(client.call("4", "chat.send", json("{'conversation':'c','text':'x','channel':'telegram'}")),
                "params.channel: must be one of control, webchat");
        assertRefused(client.call("5", "chat.history", json("{}")), "give conversation or sessionKey");
        assertRefused(client.call("6", "connect", json("{'subscribe':{'all':'yes'}}")), "params.subscribe.all");
        JsonNode status = payloadOf(client.call("7", "status", null));
        assertThat(status.path("journal").path("received").asLong()).isZero();
    }

    @Test
    void aReloadThatChangesTheTokenClosesConnectionsThatShowedTheOldOne() throws Exception {
        Path config = dir.resolve("ferry.json5");
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Files.writeString(config, "{ gateway: { port: " + port + ", auth: { token: 'old-token' } }, state: { dir: '"
                + dir.resolve("state") + "' } }");
        gateway = Gateway.start(ConfigLoader.load(config));
        WsClient client = connected("{'auth':{'token':'old-token'}}");

        assertThat(gateway.reload("test").get().applied()).isTrue();
        assertThat(client.nextEvent("reload").path("generation").asLong()).isEqualTo(2);
        assertThat(payloadOf(client.call("1", "health", null)).path("ok").asBoolean()).as("same token: still served").isTrue();

        Files.writeString(config, "{ gateway: { port: " + port + ", auth: { token: 'new-token' } }, state: { dir: '"
                + dir.resolve("state") + "' } }");
        assertThat(gateway.reload("test").get().applied()).isTrue();
        assertThat(client.nextEvent("reload").path("generation").asLong()).isEqualTo(3);
        assertThat(client.closed().join()).isEqualTo(1008);
    }

    private static void assertRefused(JsonNode response, String messagePart) {
        assertThat(response.path("ok").asBoolean()).as("%s", response).isFalse();
        assertThat(response.path("error").path("code").asText()).isEqualTo("INVALID_PARAMS");
        assertThat(response.path("error").path("message").asText()).contains(messagePart);
    }

    /** The next final chat event, checking its text when {@code text} is given. */
    private static JsonNode awaitFinal(WsClient client, String text) throws InterruptedException {
        JsonNode chat;
        do {
            chat = client.nextEvent("chat");
        } while (!chat.path("final").asBoolean());
        if (text != null) {
            assertThat(chat.path("text").asText()).isEqualTo(text);
        }
        return chat;
    }
}
