package dev.ferry.intake;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import dev.ferry.config.Secret;

class BearerTokenTest {

    private final Secret token = Secret.of("s3cret");

    @Test
    void acceptsTheExactTokenAfterBearer() {
        assertThat(BearerToken.matches(token, "Bearer s3cret")).isTrue();
    }

    @Test
    void schemeIsCaseInsensitive() {
        assertThat(BearerToken.matches(token, "bearer s3cret")).isTrue();
        assertThat(BearerToken.matches(token, "BEARER s3cret")).isTrue();
    }

    @Test
    void surroundingWhitespaceAroundTheTokenIsIgnored() {
        assertThat(BearerToken.matches(token, "Bearer  s3cret ")).isTrue();
    }

    @Test
    void refusesAWrongToken() {
        assertThat(BearerToken.matches(token, "Bearer s3cre")).isFalse();
        assertThat(BearerToken.matches(token, "Bearer s3cret2")).isFalse();
        assertThat(BearerToken.matches(token, "Bearer S3CRET")).isFalse();
    }

    @Test
    void refusesAMissingOrMalformedHeader() {
        assertThat(BearerToken.matches(token, null)).isFalse();
        assertThat(BearerToken.matches(token, "")).isFalse();
        assertThat(BearerToken.matches(token, "Bearer ")).isFalse();
        assertThat(BearerToken.matches(token, "Bearer")).isFalse();
        assertThat(BearerToken.matches(token, "s3cret")).isFalse();
        assertThat(BearerToken.matches(token, "Basic s3cret")).isFalse();
        assertThat(BearerToken.matches(token, "Bearers3cret")).isFalse();
    }

    @Test
    void noConfiguredTokenMatchesNothing() {
        assertThat(BearerToken.matches(Secret.NONE, "Bearer ")).isFalse();
        assertThat(BearerToken.matches(Secret.NONE, "Bearer anything")).isFalse();
    }
}
