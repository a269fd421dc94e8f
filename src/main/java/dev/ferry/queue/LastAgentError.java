package dev.ferry.queue;

/** The last turn answered with an error reply: the kind of failure and what the backend said, safe to show. */
public record LastAgentError(String kind, String message, long turnId, String sessionKey) {}
