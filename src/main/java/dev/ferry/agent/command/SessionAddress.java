package dev.ferry.agent.command;

/**
 * Where a session's messages come from, as far as its session key says: a key
 * {@code agent:main:<channel>:<account>:<conversation>[:<sender>]} names all three, the shared
 * {@code agent:main:main} (and any key of another shape) none. A part the key does not name is null.
 *
 * <p>The key is split on {@code ':'}, so a conversation id that itself contains a colon is cut at it;
 * the request carrying the conversation itself would not have that ambiguity.
 */
record SessionAddress(String channel, String account, String conversation) {

    private static final String PREFIX = "agent:main:";

    static final SessionAddress UNKNOWN = new SessionAddress(null, null, null);

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
