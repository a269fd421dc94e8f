package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.config.Secret;
import dev.ferry.testing.GatewayProcess;
import io.javalin.Javalin;

/** {@code ferry send}'s round trip against a fake gateway: a Javalin {@code /ws} that plays a script. */
class WsRpcClientTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "s3cret-token-value";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private FakeGateway fake;

    @AfterEach
    void stopFake() {
        if (fake != null) {
            fake.close();
        }
    }

    @Test
    void printsStreamedPiecesThenOnlyWhatTheFinalAdds() throws Exception {
        fake = new FakeGateway(false, echoing("m1", List.of("ec", "ho: ", "hel"), "echo: hello"));

        int exit = send("m1", "hello", TIMEOUT);

        assertThat(exit).as(err()).isZero();
        assertThat(out()).isEqualTo("echo: hello\n");
        assertThat(fake.received()).extracting(frame -> frame.path("method").asText()).containsExactly("connect", "chat.send");
        JsonNode connect = fake.received().get(0).path("params");
        assertThat(connect.path("auth").path("token").asText()).isEqualTo(TOKEN);
        assertThat(connect.path("subscribe").path("conversations").get(0).asText()).isEqualTo("c1");
        JsonNode chatSend = fake.received().get(1).path("params");
        assertThat(chatSend.path("conversation").asText()).isEqualTo("c1");
        assertThat(chatSend.path("text").asText()).isEqualTo("hello");
        assertThat(chatSend.path("messageId").asText()).isEqualTo("m1");
    }

    @Test
    void assemblesFramesThatArriveInParts() throws Exception {
        fake = new FakeGateway(true, echoing("m1", List.of("ec", "ho: ", "hel"), "echo: hello"));

        int exit = send("m1", "hello", TIMEOUT);

        assertThat(exit).as(err()).isZero();
        assertThat(out()).isEqualTo("echo: hello\n");
    }

    @Test
    void aFinalThatDoesNotContinueThePiecesIsPrintedOnItsOwnLine() throws Exception {
        fake = new FakeGateway(false, echoing("m1", List.of("draft"), "rewritten"));

        int exit = send("m1", "hello", TIMEOUT);

        assertThat(exit).as(err()).isZero();
        assertThat(out()).isEqualTo("draft\nrewritten\n");
    }

    @Test
    void piecesOfAnotherMessagesTurnAndOtherConversationsAreNotPrinted() throws Exception {
        fake = new FakeGateway(false, (request, peer) -> {
            if (answerConnect(request, peer)) {
                return;
            }
            peer.send(response(request, ok().put("seq", 3).put("duplicate", false)));
            peer.send(event("queue", node("{'conversation':'c1','messageIds':['other'],'change':'started','turnId':1}")));
            peer.send(chat("c1", "fr-1", 1, "not ours", false));
            peer.send(chat("c2", "fr-9", 9, "elsewhere", false));
            peer.send(event("chat", node("{'conversation':'c1','replyId':'fr-1','turnId':1,'text':'not ours!','final':true,"
                    + "'inReplyTo':['other']}")));
            peer.send(event("queue", node("{'conversation':'c1','messageIds':['m1'],'change':'started','turnId':2}")));
            peer.send(chat("c1", "fr-2", 2, "ours", false));
            peer.send(event("chat", node("{'conversation':'c1','replyId':'fr-2','turnId':2,'text':'ours.','final':true,"
                    + "'inReplyTo':['m1']}")));
        });

        int exit = send("m1", "hello", TIMEOUT);

        assertThat(exit).as(err()).isZero();
        assertThat(out()).isEqualTo("ours.\n");
    }

    @Test
    void aRefusedTokenEndsWithItsOwnExitCodeAndNeverPrintsTheToken() throws Exception {
        fake = new FakeGateway(false, (request, peer) -> {
            peer.send(error(request, "UNAUTHORIZED", "params.auth.token: invalid"));
            peer.close(1008, "unauthorized");
        });

        int exit = send("m1", "hello", TIMEOUT);

        assertThat(exit).isEqualTo(GatewayFailure.Kind.UNAUTHORIZED.exitCode());
        assertThat(err()).startsWith("ferry: the gateway refused the token (UNAUTHORIZED: params.auth.token: invalid)")
                .contains("gateway.auth.token in test.json5").doesNotContain(TOKEN);
        assertThat(err().lines()).hasSize(1);
        assertThat(out()).isEmpty();
    }

    @Test
    void noGatewayListeningIsSaidPlainly() throws Exception {
        int port = GatewayProcess.freePort();

        int exit = SendCommand.send(target(port), message("m1", "hello", TIMEOUT), stream(stdout), stream(stderr));

        assertThat(exit).isEqualTo(GatewayFailure.Kind.NOT_RUNNING.exitCode());
        assertThat(err()).isEqualTo("ferry: no gateway at http://127.0.0.1:" + port
                + ": connection refused (is `ferry gateway` running?)\n");
    }

    @Test
    void noFinalWithinTheTimeoutEndsTheWait() throws Exception {
        fake = new FakeGateway(false, (request, peer) -> {
            if (!answerConnect(request, peer)) {
                peer.send(response(request, ok().put("seq", 12).put("duplicate", false)));
            }
        });

        long started = System.nanoTime();
        int exit = send("m1", "hello", Duration.ofMillis(500));

        assertThat(exit).isEqualTo(GatewayFailure.Kind.TIMEOUT.exitCode());
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        assertThat(err()).startsWith("ferry: no final reply within 0.5 s").contains("accepted as seq 12");
    }

    @Test
    void aDroppedMessageSaysWhyAndEndsWithTheDropExitCode() throws Exception {
        fake = new FakeGateway(false, (request, peer) -> {
            if (!answerConnect(request, peer)) {
                peer.send(response(request, ok().put("seq", 4).put("duplicate", false)));
                peer.send(event("queue", node("{'conversation':'c1','messageId':'m1','change':'queued','queued':2}")));
                peer.send(event("queue", node("{'conversation':'c1','messageId':'m1','change':'dropped','reason':'queue cap 20 reached'}")));
            }
        });

        int exit = send("m1", "hello", TIMEOUT);

        assertThat(exit).isEqualTo(GatewayFailure.Kind.DROPPED.exitCode());
        assertThat(err()).contains("queued (2 waiting)").contains("ferry: dropped: queue cap 20 reached");
    }

    @Test
    void theServersErrorForChatSendIsPrintedWithItsCode() throws Exception {
        fake = new FakeGateway(false, (request, peer) -> {
            if (!answerConnect(request, peer)) {
                peer.send(error(request, "INVALID_PARAMS", "params.text: must be a non-empty string"));
            }
        });

        int exit = send("m1", "hello", TIMEOUT);

        assertThat(exit).isEqualTo(GatewayFailure.Kind.ERROR.exitCode());
        assertThat(err()).isEqualTo("ferry: chat.send failed: INVALID_PARAMS: params.text: must be a non-empty string\n");
    }

    @Test
    void aCloseBeforeTheReplyNamesItsCodeAndAStoppingGateway() throws Exception {
        fake = new FakeGateway(false, (request, peer) -> {
            if (!answerConnect(request, peer)) {
                peer.send(response(request, ok().put("seq", 5).put("duplicate", false)));
                peer.send(event("shutdown", node("{'generation':1}")));
                peer.close(1001, "gateway stopping");
            }
        });

        int exit = send("m1", "hello", TIMEOUT);

        assertThat(exit).isEqualTo(GatewayFailure.Kind.CLOSED.exitCode());
        assertThat(err()).startsWith("ferry: the gateway closed the connection before the reply: 1001 gateway stopping"
                + " (the gateway is stopping)").contains("accepted as seq 5");
    }

    // --- the fake's script helpers

    /** Answers connect; then chat.send with a seq, the turn's start, the pieces and the final. */
    private static Script echoing(String messageId, List<String> pieces, String finalText) {
        return (request, peer) -> {
            if (answerConnect(request, peer)) {
                return;
            }
            peer.send(response(request, ok().put("seq", 1).put("duplicate", false)
                    .put("conversation", "c1").put("messageId", messageId)));
            ObjectNode started = JSON.createObjectNode().put("conversation", "c1").put("change", "started").put("turnId", 7);
            started.putArray("messageIds").add(messageId);
            peer.send(event("queue", started));
            for (String piece : pieces) {
                peer.send(chat("c1", "fr-7", 7, piece, false));
            }
            ObjectNode last = chat("c1", "fr-7", 7, finalText, true);
            ((ObjectNode) last.get("payload")).putArray("inReplyTo").add(messageId);
            peer.send(last);
        };
    }

    private static boolean answerConnect(JsonNode request, Peer peer) {
        if (!"connect".equals(request.path("method").asText())) {
            return false;
        }
        peer.send(response(request, ok().put("server", "ferry").put("generation", 1)));
        return true;
    }

    private static ObjectNode ok() {
        return JSON.createObjectNode();
    }

    private static ObjectNode response(JsonNode request, ObjectNode payload) {
        ObjectNode frame = JSON.createObjectNode().put("type", "res").put("ok", true);
        frame.set("id", request.get("id"));
        frame.set("payload", payload);
        return frame;
    }

    private static ObjectNode error(JsonNode request, String code, String message) {
        ObjectNode frame = JSON.createObjectNode().put("type", "res").put("ok", false);
        frame.set("id", request.get("id"));
        frame.putObject("error").put("code", code).put("message", message);
        return frame;
    }

    private static ObjectNode event(String name, JsonNode payload) {
        ObjectNode frame = JSON.createObjectNode().put("type", "event").put("event", name);
        frame.set("payload", payload);
        return frame;
    }

    private static ObjectNode chat(String conversation, String replyId, long turnId, String text, boolean last) {
        return event("chat", JSON.createObjectNode().put("conversation", conversation).put("replyId", replyId)
                .put("turnId", turnId).put("text", text).put("final", last));
    }

    private static JsonNode node(String singleQuoted) {
        try {
            return JSON.readTree(singleQuoted.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(singleQuoted, e);
        }
    }

    private int send(String messageId, String text, Duration timeout) throws InterruptedException {
        return SendCommand.send(target(fake.port()), message(messageId, text, timeout), stream(stdout), stream(stderr));
    }

    private static SendCommand.Target target(int port) {
        return new SendCommand.Target(URI.create("http://127.0.0.1:" + port), Secret.of(TOKEN), Path.of("test.json5"));
    }

    private static SendCommand.Message message(String messageId, String text, Duration timeout) {
        return new SendCommand.Message("c1", messageId, text, timeout);
    }

    private static PrintStream stream(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }

    private String out() {
        return stdout.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    /** What the fake does with one request frame from the client. */
    @FunctionalInterface
    interface Script {
        void handle(JsonNode request, Peer peer) throws Exception;
    }

    /** The fake's side of one connection. */
    interface Peer {
        void send(JsonNode frame);

        void close(int code, String reason);
    }

    /**
     * A {@code /ws} on a free loopback port that runs the script for each request, on one thread of its own
     * so that a send may wait for its write; with {@code split}, each frame goes out in three parts.
     */
    private static final class FakeGateway implements AutoCloseable {
        private final Javalin app;
        private final ExecutorService scriptThread = Executors.newSingleThreadExecutor();
        private final List<JsonNode> received = new java.util.concurrent.CopyOnWriteArrayList<>();

        FakeGateway(boolean split, Script script) {
            this.app = Javalin.create(config -> {
                config.startup.showJavalinBanner = false;
                config.startup.showOldJavalinVersionWarning = false;
                config.jetty.host = "127.0.0.1";
                config.jetty.port = 0;
                config.routes.ws("/ws", ws -> ws.onMessage(ctx -> {
                    JsonNode request = JSON.readTree(ctx.message());
                    received.add(request);
                    Session session = ctx.session;
                    scriptThread.execute(() -> {
                        try {
                            script.handle(request, peer(session, split));
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
                }));
            }).start();
        }

        int port() {
            return app.port();
        }

        List<JsonNode> received() {
            return received;
        }

        private static Peer peer(Session session, boolean split) {
            return new Peer() {
                @Override
                public void send(JsonNode frame) {
                    String text = frame.toString();
                    if (!split) {
                        await(Callback.Completable.with(done -> session.sendText(text, done)));
                        return;
                    }
                    int third = Math.max(1, text.length() / 3);
                    List<String> parts = List.of(text.substring(0, third), text.substring(third, 2 * third),
                            text.substring(2 * third));
                    for (int i = 0; i < parts.size(); i++) {
                        String part = parts.get(i);
                        boolean last = i == parts.size() - 1;
                        await(Callback.Completable.with(done -> session.sendPartialText(part, last, done)));
                    }
                }

                @Override
                public void close(int code, String reason) {
                    await(Callback.Completable.with(done -> session.close(code, reason, done)));
                }
            };
        }

        private static void await(Callback.Completable write) {
            try {
                write.get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("the fake could not write", e);
            }
        }

        @Override
        public void close() {
            scriptThread.shutdownNow();
            app.stop();
        }
    }
}
