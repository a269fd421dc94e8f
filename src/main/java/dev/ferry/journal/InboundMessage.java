package dev.ferry.journal;

import java.util.List;

/**
 * One message as intake accepted it. {@code seq} is 0 until the journal assigns it; after that it is
 * the message's position in the journal, unique and increasing in arrival order.
 *
 * @param threadId  the platform thread to reply in, or null
 * @param replyToId the platform message this one answers, or null
 */
public record InboundMessage(
        long seq,
        String channel,
        String account,
        String conversation,
        String sender,
        String messageId,
        String text,
        String threadId,
        String replyToId,
        List<Media> media,
        long receivedAtEpochMs) {

    public InboundMessage {
        media = List.copyOf(media);
    }

    public InboundMessage withSeq(long newSeq) {
        return new InboundMessage(newSeq, channel, account, conversation, sender, messageId, text, threadId,
                replyToId, media, receivedAtEpochMs);
    }

    public boolean hasMedia() {
        return !media.isEmpty();
    }
}
