package dev.ferry.config;

import java.nio.file.Path;

/** Expands a leading {@code ~} to {@code user.home}, the way a shell would for the operator. */
final class HomePaths {

    private HomePaths() {
    }

    static Path home() {
        return Path.of(System.getProperty("user.home"));
    }

    /** {@code "~"} and {@code "~/x"} become paths under the home directory; anything else is taken as written. */
    static Path expand(String text) {
        if (text.equals("~")) {
            return home();
        }
        if (text.startsWith("~/") || text.startsWith("~\\")) {
            return home().resolve(text.substring(2));
        }
        return Path.of(text);
    }
}
