package dev.ferry.channel.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ferry.journal.Reply;

class WebhookReplyTransportTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void bodyCarriesReplyIdConversationRecipientTextAndAnsweredIds() throws Exception {
        Reply reply = new Reply("fr-abc-7", 7, "agent:main:webhook:default:c1", "webhook", "default", "c1", "bob",
                null, "echo: hello\nthere", List.of("m1", "m2"));

        JsonNode body = JSON.readTree(WebhookReplyTransport.body(reply));

        assertThat(body).isEqualTo(JSON.readTree("""
                {"replyId": "fr-abc-7", "conversation": "c1", "to": "bob", "text": "echo: hello\\nthere",
                 "inReplyTo": ["m1", "m2"]}"""));
    }

    @Test
    void bodyCarriesTheThreadOnlyWhenThereIsOne() throws Exception {
        Reply threaded = new Reply("fr-abc-8", 8, "s", "webhook", "default", "c1", "bob", "thread-3", "hi",
                List.of("m3"));

        JsonNode body = JSON.readTree(WebhookReplyTransport.body(threaded));

        assertThat(body.get("threadId").asText()).isEqualTo("thread-3");
        assertThat(body.get("inReplyTo")).hasSize(1);
    }

    @Test
    void bodyEscapesTextSafely() throws Exception {
        String text = "quote \" backslash \\ unicode ü 🚢 <tag>";
        Reply reply = new Reply("r", 1, "s", "webhook", "default", "c1", "bob", null, text, List.of());

        JsonNode body = JSON.readTree(WebhookReplyTransport.body(reply));

        assertThat(body.get("text").asText()).isEqualTo(text);
        assertThat(body.get("inReplyTo").isArray()).isTrue();
        assertThat(body.get("inReplyTo")).isEmpty();
    }
}
