package dev.ferry.session;

import java.util.concurrent.CompletableFuture;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.config.QueueSettings;
import dev.ferry.delivery.Outbox;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.queue.SessionQueueStatus;
import dev.ferry.queue.StopReport;
import dev.ferry.queue.TurnScheduler;

/**
 * Answers chat commands without a model call. Each command's answer is committed with the command
 * message in one journal write and goes out through the outbox like any reply. A {@code /queue}
 * directive followed by text, or {@code /new} followed by text, hands that text back to be run as an
 * ordinary message. Thread-safe and stateless.
 */
public final class ChatCommandHandler {
    private static final Logger log = LoggerFactory.getLogger(ChatCommandHandler.class);

    private final Journal journal;
    private final TurnScheduler turns;
    private final Outbox outbox;

    public ChatCommandHandler(Journal journal, TurnScheduler turns, Outbox outbox) {
        this.journal = journal;
        this.turns = turns;
        this.outbox = outbox;
    }

    /**
     * Runs the command in {@code message}. Returns the message to run as a turn afterwards (the command
     * stripped from its text), or null when the command was the whole message.
     */
    public InboundMessage handle(String sessionKey, InboundMessage message) {
        ChatCommands.Command command = ChatCommands.parse(message.text())
                .orElseThrow(() -> new IllegalArgumentException("not a chat command: seq=" + message.seq()));
        return switch (command.name()) {
            case "status" -> answer(sessionKey, message, statusText(sessionKey, message.channel()));
            case "new", "reset" -> reset(sessionKey, message, command.argument());
            case "stop" -> answer(sessionKey, message, stopText(turns.stop(sessionKey)));
            case "queue" -> queue(sessionKey, message, command.argument());
            default -> throw new IllegalStateException("unhandled command " + command.name());
        };
    }

    private InboundMessage reset(String sessionKey, InboundMessage message, String rest) {
        // Not joined: this may run on the journal's completion thread, which must never wait on itself.
        journal.resetSession(sessionKey).whenComplete((ok, error) -> {
            if (error != null) {
                log.error("could not reset session={}", sessionKey, error);
            }
        });
        log.info("session reset session={}", sessionKey);
        if (!rest.isEmpty()) {
            return withText(message, rest);
        }
        return answer(sessionKey, message, "Started a new session: earlier messages are no longer part of the conversation.");
    }

    private InboundMessage queue(String sessionKey, InboundMessage message, String argument) {
        ChatCommands.QueueDirective directive = ChatCommands.parseQueueDirective(argument);
        if (!directive.errors().isEmpty()) {
            return answer(sessionKey, message, "Queue settings unchanged: " + String.join("; ", directive.errors()));
        }
        if (directive.changesNothing()) {
            if (directive.remainingText().isEmpty()) {
                return answer(sessionKey, message, "Queue: " + describe(turns.settingsFor(sessionKey, message.channel())));
            }
            return answer(sessionKey, message, "Queue settings unchanged: unknown option '"
                    + directive.remainingText().split("\\s+", 2)[0] + "' (expected a mode such as collect or followup,"
                    + " debounce:<duration>, maxwait:<duration>, cap:<n>, drop:new|old|summarize, or reset)");
        }
        CompletableFuture<Void> saved = turns.changeDirective(sessionKey, stored -> stored == null || directive.reset()
                ? directive.settings() : stored.mergedWith(directive.settings()));
        boolean runsText = !directive.remainingText().isEmpty();
        // The confirmation waits for the save, so it never shows settings that a restart would lose.
        saved.whenComplete((ignored, error) -> {
            if (error != null) {
                log.error("could not journal queue settings session={}", sessionKey, error);
                if (!runsText) {
                    answer(sessionKey, message, "Queue settings unchanged: they could not be saved.");
                }
                return;
            }
            String settings = describe(turns.settingsFor(sessionKey, message.channel()));
            log.info("queue directive set session={} settings={}", sessionKey, settings);
            if (!runsText) {
                answer(sessionKey, message, "Queue settings for this session: " + settings);
            }
        });
        return runsText ? withText(message, directive.remainingText()) : null;
    }

    private String statusText(String sessionKey, String channel) {
        QueueSettings settings = turns.settingsFor(sessionKey, channel);
        SessionQueueStatus status = turns.status(sessionKey).orElse(null);
        return "Session: " + sessionKey
                + "\nQueue: " + describe(settings)
                + "\nTurn running: " + (status != null && status.turnRunning() ? "yes" : "no")
                + "\nQueued: " + (status == null ? 0 : status.queued())
                + "\nDropped: " + (status == null ? 0 : status.dropped())
                + ", superseded: " + (status == null ? 0 : status.superseded());
    }

    private static String stopText(StopReport report) {
        if (!report.abortedTurn() && report.clearedMessages() == 0) {
            return "Nothing to stop.";
        }
        return (report.abortedTurn() ? "Stopped the running turn" : "No turn was running")
                + "; cleared " + report.clearedMessages() + " queued message(s).";
    }

    static String describe(QueueSettings settings) {
        return settings.mode().configName() + " (debounce " + settings.debounceMs() + " ms, max wait "
                + settings.longestWaitMs() + " ms, cap " + settings.cap()
                + ", drop " + settings.drop().configName() + ")";
    }

    /** Commits the answer with the command message and sends it; the command is then done. */
    private InboundMessage answer(String sessionKey, InboundMessage message, String text) {
        journal.completeWithoutTurn(sessionKey, message, text).whenComplete((reply, error) -> {
            if (error != null) {
                log.error("could not record command answer session={} seq={}", sessionKey, message.seq(), error);
            } else {
                outbox.enqueue(reply);
            }
        });
        return null;
    }

    private static InboundMessage withText(InboundMessage message, String text) {
        return new InboundMessage(message.seq(), message.channel(), message.account(), message.conversation(),
                message.sender(), message.messageId(), text, message.threadId(), message.replyToId(), message.media(),
                message.receivedAtEpochMs());
    }
}
