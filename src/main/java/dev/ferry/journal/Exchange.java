package dev.ferry.journal;

/** One prompt and its reply in a session transcript. */
public record Exchange(long turnId, String prompt, String reply, long completedAtEpochMs) {}
