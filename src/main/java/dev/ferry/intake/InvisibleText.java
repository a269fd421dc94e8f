package dev.ferry.intake;

/**
 * Tells whether a text shows nothing at all, so that an id made only of such characters is refused like
 * a blank one: two ids that look the same (empty) would otherwise name different conversations or
 * senders. Invisible are whitespace, control and format characters (U+200B, U+2060, U+FEFF, bidi
 * marks), the other default-ignorable code points of Unicode (fillers such as U+3164, variation
 * selectors) and U+2800, the blank braille pattern. Stateless.
 */
public final class InvisibleText {

    /** Default-ignorable code points that are not format characters, and the blank braille pattern; inclusive ranges. */
    private static final int[][] IGNORABLE = {
            {0x034F, 0x034F}, {0x115F, 0x1160}, {0x17B4, 0x17B5}, {0x180B, 0x180F}, {0x2065, 0x2065},
            {0x2800, 0x2800}, {0x3164, 0x3164}, {0xFE00, 0xFE0F}, {0xFFA0, 0xFFA0}, {0xFFF0, 0xFFF8},
            {0x16FE4, 0x16FE4}, {0x1BCA0, 0x1BCA3}, {0xE0000, 0xE0FFF},
    };

    private InvisibleText() {}

    /** True for the empty text too. */
    public static boolean isInvisible(String text) {
        return text.codePoints().allMatch(InvisibleText::isInvisible);
    }

    private static boolean isInvisible(int codePoint) {
        int type = Character.getType(codePoint);
        if (Character.isWhitespace(codePoint) || Character.isSpaceChar(codePoint)
                || type == Character.CONTROL || type == Character.FORMAT) {
            return true;
        }
        for (int[] range : IGNORABLE) {
            if (codePoint >= range[0] && codePoint <= range[1]) {
                return true;
            }
        }
        return false;
    }
}
