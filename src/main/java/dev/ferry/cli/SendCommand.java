package dev.ferry.cli;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import dev.ferry.config.GatewayConfig;
import dev.ferry.config.LoadedConfig;
import dev.ferry.config.Secret;
import dev.ferry.time.MonotonicClock;

/**
 * {@code ferry send "text"}: sends one message to the running gateway as {@code chat.send} over its
 * WebSocket ({@code GET /ws}) and prints the reply as it streams, ending when its final arrives.
 *
 * <p>stdout holds the reply and nothing else: the streamed pieces as they come, then what the final adds to
 * them, so that it ends as the whole final text and one newline. Queue changes and every failure go to
 * stderr, a failure as one line, with the exit code of its {@link GatewayFailure.Kind}. Runs on the
 * caller's thread, which alone reads what the {@link WsRpcClient} received.
 */
@Command(name = "send", mixinStandardHelpOptions = true,
        description = "Send a message to the running gateway (channel control) and print the reply as it streams.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:the final reply was printed",
            "1:invalid configuration",
            "2:wrong usage",
            "3:the gateway dropped the message (the reason is printed)",
            "4:no gateway is running at the configured address",
            "5:the gateway refused the token",
            "6:no final reply within --timeout",
            "7:the gateway answered with an error (its code and message are printed)",
            "8:the connection closed before the reply (1001: the gateway is stopping)"})
final class SendCommand implements Callable<Integer> {

    static final String DEFAULT_CONVERSATION = "cli";
    private static final String CONTROL_CHANNEL = "control";

    @Mixin
    ConfigOption config;

    @Option(names = "--conversation", paramLabel = "C", defaultValue = DEFAULT_CONVERSATION,
            description = "Conversation to write in (default: ${DEFAULT-VALUE}).")
    String conversation;

    @Option(names = "--message-id", paramLabel = "ID",
            description = "The message's id; a resend with the same id is never answered twice (default: a new one).")
    String messageId;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "How long to wait for the final reply, connecting included (default: ${DEFAULT-VALUE}).")
    double timeoutSeconds;

    @Parameters(paramLabel = "TEXT", arity = "1..*", description = "The message; several words are joined by spaces.")
    List<String> words;

    /** Where the gateway is and the token to show it; {@code config} is named in a refused-token message. */
    record Target(URI base, Secret token, Path config) {}

    /** What to send, and how long to wait for its final reply. */
    record Message(String conversation, String messageId, String text, Duration timeout) {}

    @Override
    public Integer call() throws InterruptedException {
        long timeoutMillis = Math.round(timeoutSeconds * 1000);
        if (timeoutMillis < 1 || timeoutSeconds > Duration.ofDays(1).toSeconds()) {
            System.err.println("ferry: --timeout: must be at least 0.001 and at most a day (86400), got "
                    + java.math.BigDecimal.valueOf(timeoutSeconds).stripTrailingZeros().toPlainString());
            return 2;
        }
        Optional<LoadedConfig> found = config.loadOrExplain();
        if (found.isEmpty()) {
            return 1;
        }
        LoadedConfig loaded = found.get();
        GatewayConfig gateway = loaded.config().gateway();
        Target target = new Target(RpcClient.base(gateway), gateway.authToken(), loaded.path());
        Message message = new Message(conversation, messageId == null ? "cli-" + UUID.randomUUID() : messageId,
                String.join(" ", words), Duration.ofMillis(timeoutMillis));
        return send(target, message, System.out, System.err);
    }

    /** Sends {@code message}, prints the reply to {@code out} and the rest to {@code err}; returns the exit code. */
    static int send(Target target, Message message, PrintStream out, PrintStream err) throws InterruptedException {
        long deadline = MonotonicClock.SYSTEM.nanos() + message.timeout().toNanos();
        try (WsRpcClient client = WsRpcClient.open(target.base(), message.timeout())) {
            new Exchange(client, target, message, deadline, out, err).run();
            return 0;
        } catch (GatewayFailure failure) {
            out.flush();
            err.println("ferry: " + failure.getMessage());
            return failure.exitCode();
        }
    }

    /** An event of {@code conversation} on channel {@code control}, where chat.send puts its messages. */
    private static boolean isOurConversation(JsonNode payload, String conversation) {
        return conversation.equals(payload.path("conversation").asText())
                && CONTROL_CHANNEL.equals(payload.path("channel").asText(CONTROL_CHANNEL));
    }

    /** One message's round trip on one connection: connect, chat.send, then events until the final. */
    private static final class Exchange {
        private final WsRpcClient client;
        private final Target target;
        private final Message message;
        private final long deadline;
        private final PrintStream err;
        private final ReplyPrinter reply;
        private String connectId;
        private String sendId;
        private String historyId;
        /** The journal seq of our message once chat.send answered; -1 before. */
        private long seq = -1;
        private boolean duplicate;

        Exchange(WsRpcClient client, Target target, Message message, long deadline, PrintStream out, PrintStream err) {
            this.client = client;
            this.target = target;
            this.message = message;
            this.deadline = deadline;
            this.err = err;
            this.reply = new ReplyPrinter(message.conversation(), message.messageId(), out);
        }

        void run() throws GatewayFailure, InterruptedException {
            ObjectNode connect = RpcClient.object();
            if (target.token().isPresent()) {
                connect.putObject("auth").put("token", target.token().reveal());
            }
            connect.putObject("subscribe").putArray("conversations").add(message.conversation());
            connectId = client.request("connect", connect, remaining());
            while (true) {
                WsRpcClient.Incoming incoming = client.next(deadline, MonotonicClock.SYSTEM);
                if (incoming == null) {
                    throw GatewayFailure.timeout("no final reply", message.timeout()).withDetail(waitingFor());
                }
                if (incoming instanceof WsRpcClient.Closed closed) {
                    throw closedBeforeReply(closed);
                }
                if (incoming instanceof WsRpcClient.Unreadable unreadable) {
                    throw new GatewayFailure(GatewayFailure.Kind.ERROR,
                            "the gateway at " + target.base() + " sent a frame that is not JSON: " + unreadable.error());
                }
                JsonNode frame = ((WsRpcClient.Frame) incoming).json();
                if ("res".equals(frame.path("type").asText())) {
                    if (onResponse(frame)) {
                        return;
                    }
                } else if ("event".equals(frame.path("type").asText()) && onEvent(frame)) {
                    return;
                }
            }
        }

        /** Returns true when the response printed the final reply: a duplicate's, found in the history. */
        private boolean onResponse(JsonNode frame) throws GatewayFailure, InterruptedException {
            JsonNode id = frame.path("id");
            boolean ok = frame.path("ok").asBoolean(false);
            String code = frame.path("error").path("code").asText();
            String detail = frame.path("error").path("message").asText();
            if (id.isTextual() && id.asText().equals(connectId)) {
                if (!ok && "UNAUTHORIZED".equals(code)) {
                    throw GatewayFailure.refusedToken(target.base(), target.token().isPresent(), code, detail, target.config());
                }
                if (!ok) {
                    throw GatewayFailure.error("connect", code, detail);
                }
                ObjectNode params = RpcClient.object()
                        .put("conversation", message.conversation())
                        .put("text", message.text())
                        .put("messageId", message.messageId());
                sendId = client.request("chat.send", params, remaining());
            } else if (id.isTextual() && id.asText().equals(sendId)) {
                if (!ok) {
                    throw GatewayFailure.error("chat.send", code, detail);
                }
                JsonNode payload = frame.path("payload");
                seq = payload.path("seq").isIntegralNumber() ? payload.get("seq").asLong() : seq;
                duplicate = payload.path("duplicate").asBoolean(false);
                if (duplicate) {
                    err.println("duplicate: message " + message.messageId() + " was already accepted in conversation "
                            + message.conversation() + "; looking for its reply");
                    // Answered already, its reply is in the history; if not yet, it comes as an event.
                    historyId = client.request("chat.history", RpcClient.object().put("conversation", message.conversation())
                            .put("limit", 1000), remaining());
                }
            } else if (id.isTextual() && id.asText().equals(historyId)) {
                for (JsonNode exchange : frame.path("payload").path("exchanges")) {
                    for (JsonNode answered : exchange.path("inReplyTo")) {
                        if (answered.asText().equals(message.messageId())) {
                            reply.printWhole(exchange.path("reply").asText());
                            return true;
                        }
                    }
                }
            } else if (!ok) {
                // An error the gateway could not tie to a request of ours (id null): a frame it could not read.
                throw GatewayFailure.error("the request", code, detail);
            }
            return false;
        }

        /** Returns true when the final reply to our message has been printed. */
        private boolean onEvent(JsonNode frame) throws GatewayFailure {
            JsonNode payload = frame.path("payload");
            switch (frame.path("event").asText()) {
                case "chat" -> {
                    return reply.onChat(payload);
                }
                case "queue" -> onQueue(payload);
                default -> {
                    // reload: the connection stays; shutdown: its close (1001) follows and ends the wait.
                }
            }
            return false;
        }

        private void onQueue(JsonNode payload) throws GatewayFailure {
            if (!isOurConversation(payload, message.conversation())) {
                return;
            }
            String change = payload.path("change").asText();
            if ("started".equals(change)) {
                reply.onTurnStarted(payload);
                return;
            }
            if (!message.messageId().equals(payload.path("messageId").asText())) {
                return;
            }
            switch (change) {
                case "queued" -> err.println(payload.path("queued").isIntegralNumber()
                        ? "queued (" + payload.get("queued").asLong() + " waiting)" : "queued");
                case "steered" -> err.println("steered into the running turn");
                case "dropped" -> throw new GatewayFailure(GatewayFailure.Kind.DROPPED,
                        "dropped: " + payload.path("reason").asText("no reason given"));
                default -> {
                    // A change this version does not know says nothing about our reply.
                }
            }
        }

        private GatewayFailure closedBeforeReply(WsRpcClient.Closed closed) {
            if (closed.failure() != null) {
                Throwable cause = closed.failure();
                return new GatewayFailure(GatewayFailure.Kind.CLOSED, "the connection to the gateway at " + target.base()
                        + " broke before the reply: " + cause.getClass().getSimpleName()
                        + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
            }
            return GatewayFailure.closed(closed.code(), closed.reason(), "the reply").withDetail(waitingFor());
        }

        /** What is known of our message when the wait ends, for the operator deciding whether to resend. */
        private String waitingFor() {
            if (sendId == null) {
                return "the message was not sent";
            }
            if (seq < 0 && !duplicate) {
                return "chat.send was not answered, so the message may not have been accepted";
            }
            return "message " + message.messageId() + " was accepted" + (seq >= 0 ? " as seq " + seq : "")
                    + ", so its reply will be in chat.history";
        }

        private Duration remaining() {
            return Duration.ofNanos(Math.max(0, deadline - MonotonicClock.SYSTEM.nanos()));
        }
    }

    /**
     * Prints the reply to one message: the pieces of the first reply seen for it, then the final's rest.
     * A piece is taken as ours when it belongs to the turn that started on our message, or, before that is
     * known, to no turn that started on other messages; the first such piece fixes the reply id.
     */
    private static final class ReplyPrinter {
        private final String conversation;
        private final String messageId;
        private final PrintStream out;
        private final StringBuilder printed = new StringBuilder();
        private final Set<Long> otherTurns = new HashSet<>();
        private long ourTurn = -1;
        private String replyId;

        ReplyPrinter(String conversation, String messageId, PrintStream out) {
            this.conversation = conversation;
            this.messageId = messageId;
            this.out = out;
        }

        void onTurnStarted(JsonNode payload) {
            long turnId = payload.path("turnId").asLong(-1);
            boolean ours = false;
            for (JsonNode id : payload.path("messageIds")) {
                ours |= messageId.equals(id.asText());
            }
            if (ours) {
                ourTurn = turnId;
            } else {
                otherTurns.add(turnId);
            }
        }

        /** Returns true when this was our final, now printed. */
        boolean onChat(JsonNode payload) {
            if (!isOurConversation(payload, conversation)) {
                return false;
            }
            String id = payload.path("replyId").asText();
            String text = payload.path("text").asText();
            if (payload.path("final").asBoolean(false)) {
                boolean ours = false;
                for (JsonNode inReplyTo : payload.path("inReplyTo")) {
                    ours |= messageId.equals(inReplyTo.asText());
                }
                if (!ours) {
                    if (id.equals(replyId)) {
                        // The pieces followed were another message's reply; ours is still to come.
                        replyId = null;
                    }
                    return false;
                }
                printFinal(text);
                return true;
            }
            long turnId = payload.path("turnId").asLong(-1);
            boolean mayBeOurs = ourTurn >= 0 ? turnId == ourTurn : !otherTurns.contains(turnId);
            if (!mayBeOurs) {
                return false;
            }
            if (replyId == null) {
                replyId = id;
            }
            if (id.equals(replyId)) {
                out.print(text);
                out.flush();
                printed.append(text);
            }
            return false;
        }

        /** A reply found whole (in the history): printed as a final that had no pieces before it. */
        void printWhole(String text) {
            printFinal(text);
        }

        private void printFinal(String text) {
            if (printed.length() == 0) {
                out.println(text);
            } else if (text.startsWith(printed.toString())) {
                out.println(text.substring(printed.length()));
            } else {
                out.println();
                out.println(text);
            }
            out.flush();
        }
    }
}
