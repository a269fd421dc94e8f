package dev.ferry.session;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Recognises the chat commands Ferry answers itself ({@code /status}, {@code /new}, {@code /reset},
 * {@code /stop}, {@code /queue ...}). A command may carry a bot mention ({@code /status@my_bot}) the way
 * Telegram groups send it. Anything else that starts with a slash is ordinary text for the agent.
 */
public final class ChatCommands {

    static final Set<String> NAMES = Set.of("status", "new", "reset", "stop", "queue");
    private static final Pattern COMMAND = Pattern.compile("^/([A-Za-z]+)(?:@\\w+)?(?:\\s.*)?$", Pattern.DOTALL);

    private ChatCommands() {}

    public static boolean isCommand(String text) {
        if (text == null) {
            return false;
        }
        var matcher = COMMAND.matcher(text.strip());
        return matcher.matches() && NAMES.contains(matcher.group(1).toLowerCase(Locale.ROOT));
    }
}
