package dev.ferry.journal;

import java.util.List;

/**
 * One prompt and its reply in a session transcript. {@code replyId} is the reply's id in the outbox, and
 * {@code inReplyTo} the ids of the messages it answers, so a client that missed the reply's event can tell
 * which of its messages are answered; empty once the outbox no longer keeps the reply.
 */
public record Exchange(long turnId, String replyId, String prompt, String reply, long completedAtEpochMs,
                       List<String> inReplyTo) {
    public Exchange {
        inReplyTo = List.copyOf(inReplyTo);
    }
}
