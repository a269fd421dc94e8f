package dev.ferry.channel.telegram;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

class MessagePartsTest {

    @Test
    void aReplyWithinTheLimitIsOnePart() {
        assertThat(MessageParts.of("short")).containsExactly("short");
        assertThat(MessageParts.of("x".repeat(4096))).hasSize(1);
    }

    @Test
    void aLongReplyIsCutAtTheLastParagraphBreakThatFits() {
        String first = "a".repeat(3000);
        String second = "b".repeat(2000);
        List<String> parts = MessageParts.of(first + "\n\n" + second);

        assertThat(parts).containsExactly(first, second);
    }

    @Test
    void withoutAParagraphBreakTheCutFallsOnALineThenOnASpace() {
        String lines = "l".repeat(4000) + "\n" + "m".repeat(500);
        assertThat(MessageParts.of(lines)).containsExactly("l".repeat(4000), "m".repeat(500));

        String words = ("word ".repeat(1000)).strip();
        List<String> parts = MessageParts.of(words);
        assertThat(parts).hasSize(2).allSatisfy(part -> assertThat(part.length()).isLessThanOrEqualTo(4096));
        assertThat(String.join(" ", parts)).isEqualTo(words);
    }

    @Test
    void textWithNoBoundaryIsCutHardAndNeverInsideASurrogatePair() {
        String emoji = "\uD83D\uDE00";   // two UTF-16 units
        String text = "a".repeat(4095) + emoji + "tail";
        List<String> parts = MessageParts.of(text);

        assertThat(parts).hasSize(2);
        assertThat(parts.get(0)).isEqualTo("a".repeat(4095));
        assertThat(parts.get(1)).isEqualTo(emoji + "tail");
    }

    @Test
    void everyPartOfAFiveThousandCharacterReplyFitsAndTheyKeepTheTextInOrder() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 5000; i++) {
            text.append("Line ").append(i).append(" of the answer.\n");
        }
        List<String> parts = MessageParts.of(text.toString().strip());

        assertThat(parts).hasSize(2).allSatisfy(part -> assertThat(part.length()).isBetween(1, 4096));
        assertThat(String.join("\n", parts)).isEqualTo(text.toString().strip());
    }
}
