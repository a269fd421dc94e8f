package dev.ferry.session;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueOverride;

/**
 * Recognises and parses the chat commands Ferry answers itself ({@code /status}, {@code /new},
 * {@code /reset}, {@code /stop}, {@code /queue ...}). A command may carry a bot mention
 * ({@code /status@my_bot}) the way Telegram groups send it. Anything else that starts with a slash is
 * ordinary text for the agent.
 */
public final class ChatCommands {

    static final Set<String> NAMES = Set.of("status", "new", "reset", "stop", "queue");
    private static final Pattern COMMAND = Pattern.compile("^/([A-Za-z]+)(?:@\\w+)?(?:\\s+(.*))?$", Pattern.DOTALL);
    private static final Pattern OPTION = Pattern.compile("^(debounce|maxwait|cap|drop)[:=](.+)$", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile("^(\\d{1,9})(ms|s|m)?$", Pattern.CASE_INSENSITIVE);

    /** A command: its lower-case name and the text after it ("" when none). */
    public record Command(String name, String argument) {}

    /**
     * A parsed {@code /queue} directive: the settings it sets (fields left null are untouched), whether
     * it resets the session's settings first, the text left after the directive, and any errors.
     */
    public record QueueDirective(QueueOverride settings, boolean reset, String remainingText, List<String> errors) {

        public boolean changesNothing() {
            return !reset && settings.isEmpty();
        }
    }

    private ChatCommands() {}

    public static boolean isCommand(String text) {
        return parse(text).isPresent();
    }

    public static Optional<Command> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher matcher = COMMAND.matcher(text.strip());
        if (!matcher.matches()) {
            return Optional.empty();
        }
        String name = matcher.group(1).toLowerCase(Locale.ROOT);
        if (!NAMES.contains(name)) {
            return Optional.empty();
        }
        return Optional.of(new Command(name, matcher.group(2) == null ? "" : matcher.group(2).strip()));
    }

    /**
     * Reads {@code <mode> debounce:<dur> maxwait:<dur> cap:<n> drop:<policy>} (also with {@code =}; {@code reset},
     * {@code default} or {@code clear} to go back to the configured settings), in any order, up to the
     * first word that is none of these: that word and the rest are the remaining text.
     */
    public static QueueDirective parseQueueDirective(String argument) {
        List<String> errors = new ArrayList<>();
        QueueMode mode = null;
        Long debounceMs = null;
        Long maxWaitMs = null;
        Integer cap = null;
        DropPolicy drop = null;
        boolean reset = false;
        String rest = argument.strip();
        while (!rest.isEmpty()) {
            String[] split = rest.split("\\s+", 2);
            String word = split[0];
            String after = split.length > 1 ? split[1] : "";
            String lower = word.toLowerCase(Locale.ROOT);
            Optional<QueueMode> asMode = QueueMode.parse(word);
            Matcher option = OPTION.matcher(word);
            if (lower.equals("reset") || lower.equals("default") || lower.equals("clear")) {
                reset = true;
            } else if (asMode.isPresent()) {
                mode = asMode.get();
            } else if (option.matches()) {
                String value = option.group(2);
                switch (option.group(1).toLowerCase(Locale.ROOT)) {
                    case "debounce" -> {
                        debounceMs = durationMs(value);
                        if (debounceMs == null) {
                            errors.add("debounce: expected a duration such as 500ms, 2s or 1m, got '" + value + "'");
                        }
                    }
                    case "maxwait" -> {
                        maxWaitMs = durationMs(value);
                        if (maxWaitMs == null) {
                            errors.add("maxwait: expected a duration such as 5s or 1m (0: five debounce windows), got '"
                                    + value + "'");
                        }
                    }
                    case "cap" -> {
                        cap = positiveInt(value);
                        if (cap == null) {
                            errors.add("cap: must be a whole number >= 1, got '" + value + "'");
                        }
                    }
                    default -> {
                        drop = DropPolicy.parse(value).orElse(null);
                        if (drop == null) {
                            errors.add("drop: expected new, old or summarize, got '" + value + "'");
                        }
                    }
                }
            } else {
                break;
            }
            rest = after.strip();
        }
        return new QueueDirective(new QueueOverride(mode, debounceMs, cap, drop, maxWaitMs), reset, rest,
                List.copyOf(errors));
    }

    private static Long durationMs(String text) {
        Matcher matcher = DURATION.matcher(text);
        if (!matcher.matches()) {
            return null;
        }
        long amount = Long.parseLong(matcher.group(1));
        String unit = matcher.group(2) == null ? "ms" : matcher.group(2).toLowerCase(Locale.ROOT);
        return switch (unit) {
            case "s" -> amount * 1_000;
            case "m" -> amount * 60_000;
            default -> amount;
        };
    }

    private static Integer positiveInt(String text) {
        try {
            int value = Integer.parseInt(text);
            return value >= 1 ? value : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
