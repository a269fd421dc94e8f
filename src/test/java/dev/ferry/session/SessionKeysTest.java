package dev.ferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ferry.config.SessionScope;
import dev.ferry.journal.InboundMessage;

class SessionKeysTest {

    private static InboundMessage message(String channel, String account, String conversation, String sender) {
        return new InboundMessage(0, channel, account, conversation, sender, "m1", "hi", null, null, List.of(), 0);
    }

    @Test
    void conversationScopeKeysByChannelAccountAndConversation() {
        assertThat(SessionKeys.of(SessionScope.CONVERSATION, message("telegram", "bot1", "-100123", "alice")))
                .isEqualTo("agent:main:telegram:bot1:-100123");
    }

    @Test
    void conversationScopeSharesOneSessionAmongSendersOfAGroup() {
        assertThat(SessionKeys.of(SessionScope.CONVERSATION, message("webhook", "default", "group", "alice")))
                .isEqualTo(SessionKeys.of(SessionScope.CONVERSATION, message("webhook", "default", "group", "bob")));
    }

    @Test
    void senderScopeAppendsTheSender() {
        assertThat(SessionKeys.of(SessionScope.SENDER, message("webhook", "default", "group", "alice")))
                .isEqualTo("agent:main:webhook:default:group:alice");
        assertThat(SessionKeys.of(SessionScope.SENDER, message("webhook", "default", "group", "bob")))
                .isEqualTo("agent:main:webhook:default:group:bob");
    }

    @Test
    void mainScopePutsEverythingInOneSession() {
        assertThat(SessionKeys.of(SessionScope.MAIN, message("telegram", "bot1", "42", "alice")))
                .isEqualTo("agent:main:main");
        assertThat(SessionKeys.of(SessionScope.MAIN, message("webhook", "default", "c9", "bob")))
                .isEqualTo("agent:main:main");
    }

    @Test
    void distinctChannelsAndAccountsGiveDistinctSessions() {
        assertThat(List.of(
                SessionKeys.of(SessionScope.CONVERSATION, message("webhook", "default", "c1", "a")),
                SessionKeys.of(SessionScope.CONVERSATION, message("telegram", "default", "c1", "a")),
                SessionKeys.of(SessionScope.CONVERSATION, message("webhook", "second", "c1", "a")),
                SessionKeys.of(SessionScope.CONVERSATION, message("webhook", "default", "c2", "a"))))
                .doesNotHaveDuplicates();
    }
}
