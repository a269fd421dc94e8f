package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class RedactedJsonTest {

    @Test
    void redactedJsonHidesSecrets() throws Exception {
        FerryConfig config = ConfigLoader.parse("{gateway: {auth: {token: 'gw-secret'}},"
                + " channels: {webhook: {token: 'wh-secret'}}}", null).config();

        ObjectNode json = ConfigLoader.toRedactedJson(config);

        assertThat(json.toString()).doesNotContain("gw-secret").doesNotContain("wh-secret");
        assertThat(json.at("/gateway/auth/token").asText()).isEqualTo("<redacted>");
        assertThat(json.at("/channels/webhook/token").asText()).isEqualTo("<redacted>");
        assertThat(json.at("/channels/telegram/botToken").isNull()).isTrue();
        assertThat(json.at("/channels/webhook/replyUrl").isNull()).isTrue();
    }

    @Test
    void usesTheFileSpellings() throws Exception {
        FerryConfig config = ConfigLoader.parse("{messages: {queue: {mode: 'steer_backlog', drop: 'newest',"
                + " byChannel: {webchat: {mode: 'abort'}}}}}", null).config();

        ObjectNode json = ConfigLoader.toRedactedJson(config);

        assertThat(json.at("/messages/queue/mode").asText()).isEqualTo("steer-backlog");
        assertThat(json.at("/messages/queue/drop").asText()).isEqualTo("new");
        assertThat(json.at("/messages/queue/byChannel/webchat").toString()).isEqualTo("{\"mode\":\"interrupt\"}");
        assertThat(json.at("/journal/sync").asText()).isEqualTo("full");
        assertThat(json.at("/session/scope").asText()).isEqualTo("conversation");
    }

    @Test
    void readingTheRedactedJsonBackGivesTheSameConfig() throws Exception {
        FerryConfig config = ConfigLoader.parse("""
                { agent: { backend: 'openai', openai: { temperature: 1.25 }, command: { argv: ['a', 'b'] } },
                  messages: { inbound: { debounceMs: 10, byChannel: { telegram: 1500, webchat: 0 } },
                              queue: { maxWaitMs: 4000, byChannel: { webhook: { cap: 3, debounceMs: 7, maxWaitMs: 90 } } } },
                  gateway: { allowedOrigins: ['https://app.example', 'http://10.0.0.5:8080'] },
                  state: { dir: '/srv/ferry' } }
                """, null).config();

        FerryConfig reread = ConfigLoader.parse(ConfigLoader.toRedactedJson(config).toString(), null).config();

        assertThat(reread).isEqualTo(config);
    }
}
