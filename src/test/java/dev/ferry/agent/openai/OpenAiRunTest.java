package dev.ferry.agent.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class OpenAiRunTest {

    @Test
    void backoffDoublesFromHalfASecondUpToItsCap() {
        assertThat(OpenAiRun.backoff(1)).isEqualTo(Duration.ofMillis(500));
        assertThat(OpenAiRun.backoff(2)).isEqualTo(Duration.ofSeconds(1));
        assertThat(OpenAiRun.backoff(3)).isEqualTo(Duration.ofSeconds(2));
        assertThat(OpenAiRun.backoff(5)).isEqualTo(OpenAiRun.MAX_BACKOFF);
        assertThat(OpenAiRun.backoff(1_000)).isEqualTo(OpenAiRun.MAX_BACKOFF);
    }

    @Test
    void timeoutsAreWordedInSeconds() {
        assertThat(OpenAiRun.seconds(60_000)).isEqualTo("60 s");
        assertThat(OpenAiRun.seconds(300)).isEqualTo("0.3 s");
    }
}
