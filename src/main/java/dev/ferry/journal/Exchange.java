package dev.ferry.journal;

/** One prompt and its reply in a session transcript; {@code replyId} is the reply's id in the outbox. */
public record Exchange(long turnId, String replyId, String prompt, String reply, long completedAtEpochMs) {}
