package dev.ferry.channel.telegram;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a reply into parts Telegram takes ({@value #MAX_CHARS} characters each), cut at the last paragraph
 * break that fits, else the last line break, else the last space, else hard; never inside a surrogate pair.
 */
final class MessageParts {

    /** {@code sendMessage}'s limit, in UTF-16 code units as the Bot API counts them. */
    static final int MAX_CHARS = 4096;

    private MessageParts() {}

    static List<String> of(String text) {
        return of(text, MAX_CHARS);
    }

    static List<String> of(String text, int max) {
        List<String> parts = new ArrayList<>();
        String rest = text;
        while (rest.length() > max) {
            int cut = cutPoint(rest, max);
            String part = rest.substring(0, cut).stripTrailing();
            if (!part.isEmpty()) {
                parts.add(part);
            }
            rest = rest.substring(cut).stripLeading();
        }
        if (!rest.isBlank() || parts.isEmpty()) {
            parts.add(rest);
        }
        return parts;
    }

    private static int cutPoint(String text, int max) {
        // A boundary may end just past the limit: the part is cut before it and its whitespace dropped.
        String window = text.substring(0, max + 1);
        for (String boundary : List.of("\n\n", "\n", " ")) {
            int at = window.lastIndexOf(boundary);
            if (at > max / 4) {
                return at + boundary.length();
            }
        }
        return Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
    }
}
