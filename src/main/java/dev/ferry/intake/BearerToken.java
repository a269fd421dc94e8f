package dev.ferry.intake;

import dev.ferry.config.Secret;

/** Checks an {@code Authorization: Bearer <token>} header against a configured secret, in constant time. */
public final class BearerToken {

    private static final String PREFIX = "bearer ";

    private BearerToken() {}

    /** True when the header carries exactly the expected token; false for a missing or malformed header. */
    public static boolean matches(Secret expected, String authorizationHeader) {
        if (authorizationHeader == null || authorizationHeader.length() <= PREFIX.length()
                || !authorizationHeader.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
            return false;
        }
        return expected.matches(authorizationHeader.substring(PREFIX.length()).trim());
    }
}
