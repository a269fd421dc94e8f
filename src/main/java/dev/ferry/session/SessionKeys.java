package dev.ferry.session;

import dev.ferry.config.SessionScope;
import dev.ferry.journal.InboundMessage;

/** The session key of a message under each {@code session.scope} (SPEC section 1). */
public final class SessionKeys {

    static final String MAIN = "agent:main:main";

    private SessionKeys() {}

    public static String of(SessionScope scope, InboundMessage message) {
        String conversationKey = "agent:main:" + message.channel() + ":" + message.account() + ":" + message.conversation();
        return switch (scope) {
            case CONVERSATION -> conversationKey;
            case SENDER -> conversationKey + ":" + message.sender();
            case MAIN -> MAIN;
        };
    }
}
