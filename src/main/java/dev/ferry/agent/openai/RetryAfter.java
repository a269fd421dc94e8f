package dev.ferry.agent.openai;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

import dev.ferry.time.WallClock;

/**
 * A {@code Retry-After} header (RFC 9110 section 10.2.3): a number of seconds or an HTTP date, read
 * against the wall clock, and capped so a server cannot park a turn for an hour. A date in the past is
 * "now"; anything unreadable is no advice at all. Stateless and thread-safe.
 */
final class RetryAfter {

    static final Duration CAP = Duration.ofSeconds(60);

    private RetryAfter() {}

    static Optional<Duration> parse(String header, WallClock wallClock) {
        if (header == null) {
            return Optional.empty();
        }
        String value = header.strip();
        if (value.matches("\\d{1,9}")) {
            return Optional.of(capped(Duration.ofSeconds(Long.parseLong(value))));
        }
        try {
            // RFC_1123_DATE_TIME reads IMF-fixdate, the form RFC 9110 says senders must use.
            long at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
            long wait = Math.max(0, at - wallClock.epochMillis());
            return Optional.of(capped(Duration.ofMillis(wait)));
        } catch (DateTimeParseException notADate) {
            return Optional.empty();
        }
    }

    private static Duration capped(Duration wait) {
        return wait.compareTo(CAP) > 0 ? CAP : wait;
    }
}
