package dev.ferry.intake;

/**
 * The rule every id that names a message, conversation, sender or thread is held to, whichever door it
 * came in by (a webhook body, {@code chat.send}): not blank, not made only of invisible characters, and at
 * most {@value #MAX_LENGTH} characters. Stateless.
 */
public final class Identifiers {

    public static final int MAX_LENGTH = 256;

    private Identifiers() {}

    /** What is wrong with {@code value} (already trimmed) as an id, to follow its field's name; null when nothing is. */
    public static String problem(String value) {
        if (value.isEmpty()) {
            return "must not be blank";
        }
        if (InvisibleText.isInvisible(value)) {
            return "must not be blank: it holds only invisible characters";
        }
        if (value.length() > MAX_LENGTH) {
            return "must be at most " + MAX_LENGTH + " characters, got " + value.length();
        }
        return null;
    }
}
