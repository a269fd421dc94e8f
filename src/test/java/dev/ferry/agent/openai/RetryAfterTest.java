package dev.ferry.agent.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.ferry.time.WallClock;

class RetryAfterTest {

    private static final Instant NOW = Instant.parse("2026-12-02T03:00:00Z");
    private final WallClock clock = NOW::toEpochMilli;

    @Test
    void readsSeconds() {
        assertThat(RetryAfter.parse("2", clock)).contains(Duration.ofSeconds(2));
        assertThat(RetryAfter.parse(" 0 ", clock)).contains(Duration.ZERO);
    }

    @Test
    void readsAnHttpDateAgainstTheWallClock() {
        assertThat(RetryAfter.parse("Wed, 02 Dec 2026 03:00:07 GMT", clock)).contains(Duration.ofSeconds(7));
    }

    @Test
    void aDateInThePastMeansNow() {
        assertThat(RetryAfter.parse("Wed, 02 Dec 2026 02:59:00 GMT", clock)).contains(Duration.ZERO);
    }

    @Test
    void capsALongWait() {
        assertThat(RetryAfter.parse("3600", clock)).contains(RetryAfter.CAP);
        assertThat(RetryAfter.parse("Thu, 03 Dec 2026 03:00:00 GMT", clock)).contains(RetryAfter.CAP);
    }

    @Test
    void ignoresWhatItCannotRead() {
        assertThat(RetryAfter.parse(null, clock)).isEmpty();
        assertThat(RetryAfter.parse("soon", clock)).isEmpty();
        assertThat(RetryAfter.parse("-1", clock)).isEmpty();
        assertThat(RetryAfter.parse("1.5", clock)).isEmpty();
    }
}
