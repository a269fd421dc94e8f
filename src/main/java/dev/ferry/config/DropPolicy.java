package dev.ferry.config;

import java.util.Locale;
import java.util.Optional;

/** Which messages a full followup queue gives up (SPEC 3.2); whatever is dropped is accounted for. */
public enum DropPolicy {
    NEW("new"),
    OLD("old"),
    SUMMARIZE("summarize");

    private final String configName;

    DropPolicy(String configName) {
        this.configName = configName;
    }

    /** The policy named by {@code text} or one of its aliases, ignoring case and surrounding blanks. */
    public static Optional<DropPolicy> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "new", "newest" -> Optional.of(NEW);
            case "old", "oldest" -> Optional.of(OLD);
            case "summarize", "summary" -> Optional.of(SUMMARIZE);
            default -> Optional.empty();
        };
    }

    /** The canonical spelling in the config file and in {@code /queue}. */
    public String configName() {
        return configName;
    }
}
