package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.Test;

class SecretTest {

    @Test
    void emptyOrNullIsNone() {
        assertThat(Secret.of(null)).isSameAs(Secret.NONE);
        assertThat(Secret.of("")).isSameAs(Secret.NONE);
        assertThat(Secret.NONE.isPresent()).isFalse();
        assertThat(Secret.NONE.reveal()).isEmpty();
        assertThat(Secret.NONE).hasToString("<none>");
    }

    @Test
    void matchesOnlyTheExactValue() {
        Secret secret = Secret.of("s3cret-ü");

        assertThat(secret.matches("s3cret-ü")).isTrue();
        assertThat(secret.matches("s3cret-u")).isFalse();
        assertThat(secret.matches("s3cret")).isFalse();
        assertThat(secret.matches(null)).isFalse();
        assertThat(Secret.NONE.matches("")).isFalse();
        assertThat(Secret.NONE.matches(null)).isFalse();
    }

    @Test
    void equalByValue() {
        assertThat(Secret.of("a")).isEqualTo(Secret.of("a")).hasSameHashCodeAs(Secret.of("a"));
        assertThat(Secret.of("a")).isNotEqualTo(Secret.of("b"));
    }

    @Test
    void secretNeverAppearsInErrorsOrToString() throws Exception {
        String value = "TOPSECRET-VALUE";
        Secret secret = Secret.of(value);
        assertThat(secret).hasToString("<redacted>");
        assertThat(new GatewayConfig("0.0.0.0", 1, secret, 0, new ReloadConfig(0, 0)).toString()).doesNotContain(value);

        FerryConfig config = ConfigLoader.parse("{gateway: {bind: '0.0.0.0', auth: {token: '" + value + "'}},"
                + " channels: {webhook: {token: '" + value + "'}, telegram: {botToken: '" + value + "'}}}", null).config();
        assertThat(config.toString()).doesNotContain(value);
        assertThat(JsonMapper.builder().build().writeValueAsString(config)).doesNotContain(value);

        String wrongTypes = "{gateway: {auth: {token: ['" + value + "']}}, channels: {webhook: {token: {v: '" + value
                + "'}}, telegram: {botToken: 12345678}}}";
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(wrongTypes, null));
        assertThat(e.errors()).containsExactly(
                "gateway.auth.token: must be a string",
                "channels.webhook.token: must be a string",
                "channels.telegram.botToken: must be a string");
        assertThat(e.getMessage()).doesNotContain(value).doesNotContain("12345678");
    }

    @Test
    void jacksonWritesRedactedOrNull() throws Exception {
        JsonMapper mapper = JsonMapper.builder().build();

        assertThat(mapper.writeValueAsString(Secret.of("x"))).isEqualTo("\"<redacted>\"");
        assertThat(mapper.writeValueAsString(Secret.NONE)).isEqualTo("null");
    }
}
