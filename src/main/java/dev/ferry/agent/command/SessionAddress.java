package dev.ferry.agent.command;

import dev.ferry.agent.AgentRequest;

/**
 * Where a session's messages come from, as far as its session key says: a key
 * {@code agent:main:<channel>:<account>:<conversation>[:<sender>]} names all three, the shared
 * {@code agent:main:main} (and any key of another shape) none. A part the key does not name is null.
 *
 * <p>A request that says where its messages came from is taken at its word; only one that does not is
 * read from its key, which is split on {@code ':'}, so a conversation id holding a colon is cut at it.
 */
record SessionAddress(String channel, String account, String conversation) {

    private static final String PREFIX = "agent:main:";

    static final SessionAddress UNKNOWN = new SessionAddress(null, null, null);

    static SessionAddress of(AgentRequest request) {
        SessionAddress fromKey = of(request.sessionKey());
        if (request.conversation() == null) {
            return fromKey;
        }
        return new SessionAddress(request.channel(), fromKey.account(), request.conversation());
    }

    static SessionAddress of(String sessionKey) {
        if (sessionKey == null || !sessionKey.startsWith(PREFIX)) {
            return UNKNOWN;
        }
        String[] parts = sessionKey.substring(PREFIX.length()).split(":", -1);
        if (parts.length < 3) {
            return UNKNOWN;
        }
        return new SessionAddress(parts[0], parts[1], parts[2]);
    }
}
