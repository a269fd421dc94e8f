package dev.ferry.agent.command;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SessionAddressTest {

    @Test
    void conversationKeyNamesChannelAccountAndConversation() {
        assertThat(SessionAddress.of("agent:main:telegram:bot1:-1001"))
                .isEqualTo(new SessionAddress("telegram", "bot1", "-1001"));
    }

    @Test
    void senderKeyNamesTheConversationBeforeTheSender() {
        assertThat(SessionAddress.of("agent:main:webhook:default:room-1:alice"))
                .isEqualTo(new SessionAddress("webhook", "default", "room-1"));
    }

    @Test
    void sharedMainSessionNamesNoConversation() {
        assertThat(SessionAddress.of("agent:main:main")).isEqualTo(SessionAddress.UNKNOWN);
        assertThat(SessionAddress.of("something else")).isEqualTo(SessionAddress.UNKNOWN);
    }
}
