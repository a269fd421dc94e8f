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

    /** Appends {@code message} to {@code journal} and returns it with the seq the journal assigned. */
    public static InboundMessage journaled(Journal journal, InboundMessage message) {
        AppendResult result = journal.append(message).join();
        if (result.duplicate()) {
            throw new IllegalArgumentException("already journaled: " + message.messageId());
        }
        return message.withSeq(result.seq());
    }
}
