package dev.ferry.journal;

import java.util.List;

/** Inbound messages for tests: webhook channel, default account, no thread, no media, seq not yet assigned. */
public final class TestMessages {

    public static final String CHANNEL = "webhook";
    public static final String ACCOUNT = "default";

    private TestMessages() {}

    public static InboundMessage inbound(String conversation, String sender, String messageId, String text) {
        return new InboundMessage(0, CHANNEL, ACCOUNT, conversation, sender, messageId, text, null, null, List.of(),
                1_700_000_000_000L);
    }

    /** A message with every optional field set (thread, reply-to, media, a time), to prove each survives the journal. */
    public static InboundMessage withEverything(String conversation, String sender, String messageId, String text,
                                                long receivedAtEpochMs) {
        return new InboundMessage(0, "telegram", "bot-2", conversation, sender, messageId, text, "thread-" + conversation,
                "parent-" + messageId,
                List.of(new Media("https://media.example/" + messageId + ".jpg", "image/jpeg"),
                        new Media("https://media.example/" + messageId + ".bin", null)),
                receivedAtEpochMs);
    }

    /** Appends {@code message} to {@code journal} and returns it with the seq the journal assigned. */
    public static InboundMessage journaled(Journal journal, InboundMessage message) {
        AppendResult result = journal.append(message).join();
        if (result.duplicate()) {
            throw new IllegalArgumentException("already journaled: " + message.messageId());
        }
        return message.withSeq(result.seq());
    }
}
