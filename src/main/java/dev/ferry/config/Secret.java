package dev.ferry.config;

import com.fasterxml.jackson.annotation.JsonValue;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * A secret value: {@code toString()} and Jackson serialization never reveal it; only {@link #reveal()} does,
 * for the one place that must send it. Immutable; equal by value so that two configs compare equal.
 */
public final class Secret {

    public static final Secret NONE = new Secret("");

    private static final String REDACTED = "<redacted>";

    private final String value;

    private Secret(String value) {
        this.value = value;
    }

    /** {@code null} and {@code ""} give {@link #NONE}. */
    public static Secret of(String value) {
        return value == null || value.isEmpty() ? NONE : new Secret(value);
    }

    public boolean isPresent() {
        return !value.isEmpty();
    }

    /** The raw value; {@code ""} for {@link #NONE}. */
    public String reveal() {
        return value;
    }

    /** Compares in constant time, so a caller guessing a token learns nothing from how long a refusal takes. */
    public boolean matches(String candidate) {
        if (!isPresent() || candidate == null) {
            return false;
        }
        return MessageDigest.isEqual(value.getBytes(StandardCharsets.UTF_8), candidate.getBytes(StandardCharsets.UTF_8));
    }

    /** What Jackson writes in place of the value. */
    @JsonValue
    String redacted() {
        return isPresent() ? REDACTED : null;
    }

    @Override
    public String toString() {
        return isPresent() ? REDACTED : "<none>";
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Secret that && value.equals(that.value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }
}
