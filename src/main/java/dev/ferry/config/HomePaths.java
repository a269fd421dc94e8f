package dev.ferry.config;

import java.nio.file.Path;
import java.util.Map;

/**
 * The operator's home directory and the expansion of a leading {@code ~}, the way a shell does it:
 * {@code $HOME} when it is set and non-empty, else Java's {@code user.home}. Java alone would not do:
 * on Unix {@code user.home} comes from the password database, so an operator or a test that sets
 * {@code HOME} would still get the account's real home. Immutable.
 */
final class HomePaths {

    private final Path home;

    private HomePaths(Path home) {
        this.home = home;
    }

    /** This process's home: its {@code $HOME}, else {@code user.home}. */
    static HomePaths ofProcess() {
        return of(System.getenv());
    }

    /** The home that {@code env} names, for callers (and tests) that hand in their own environment. */
    static HomePaths of(Map<String, String> env) {
        String fromEnv = env == null ? null : env.get("HOME");
        return new HomePaths(Path.of(fromEnv != null && !fromEnv.isEmpty() ? fromEnv : System.getProperty("user.home")));
    }

    Path home() {
        return home;
    }

    /** {@code "~"} and {@code "~/x"} become paths under the home directory; anything else is taken as written. */
    Path expand(String text) {
        if (text.equals("~")) {
            return home;
        }
        if (text.startsWith("~/") || text.startsWith("~\\")) {
            return home.resolve(text.substring(2));
        }
        return Path.of(text);
    }
}
