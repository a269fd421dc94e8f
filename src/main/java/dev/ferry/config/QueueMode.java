package dev.ferry.config;

import java.util.Locale;
import java.util.Optional;

/** What a session does with a message that arrives while its agent is busy (SPEC 3.2). */
public enum QueueMode {
    FOLLOWUP("followup"),
    COLLECT("collect"),
    STEER("steer"),
    STEER_BACKLOG("steer-backlog"),
    INTERRUPT("interrupt");

    private final String configName;

    QueueMode(String configName) {
        this.configName = configName;
    }

    /** The mode named by {@code text} or one of its aliases, ignoring case and surrounding blanks. */
    public static Optional<QueueMode> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "followup", "followups", "follow-ups" -> Optional.of(FOLLOWUP);
            case "collect", "coalesce" -> Optional.of(COLLECT);
            case "steer", "steering", "queue", "queued" -> Optional.of(STEER);
            case "steer-backlog", "steer+backlog", "steer_backlog" -> Optional.of(STEER_BACKLOG);
            case "interrupt", "interrupts", "abort" -> Optional.of(INTERRUPT);
            default -> Optional.empty();
        };
    }

    /** The canonical spelling in the config file and in {@code /queue}. */
    public String configName() {
        return configName;
    }
}
