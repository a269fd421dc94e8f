package dev.ferry.agent.command;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class ReplyTextTest {

    private static String append(ReplyText text, byte... bytes) {
        return text.append(bytes, bytes.length);
    }

    @Test
    void characterSplitAcrossEveryByteComesOutWholeWithItsLastByte() {
        byte[] emoji = "🙂".getBytes(StandardCharsets.UTF_8);
        ReplyText text = new ReplyText();

        assertThat(append(text, emoji[0])).isEmpty();
        assertThat(append(text, emoji[1])).isEmpty();
        assertThat(append(text, emoji[2])).isEmpty();
        assertThat(append(text, emoji[3])).isEqualTo("🙂");
        assertThat(text.finish()).isEmpty();
        assertThat(text.reply()).isEqualTo("🙂");
    }

    @Test
    void trailingLineBreaksAreHeldUntilMoreTextFollowsAndTrimmedAtTheEnd() {
        ReplyText text = new ReplyText();

        assertThat(text.append("one\r\n".getBytes(StandardCharsets.UTF_8), 5)).isEqualTo("one");
        assertThat(text.append("two\n\n".getBytes(StandardCharsets.UTF_8), 5)).isEqualTo("\r\ntwo");
        assertThat(text.finish()).isEmpty();
        assertThat(text.reply()).isEqualTo("one\r\ntwo");
    }

    @Test
    void characterCutShortByTheEndBecomesAReplacementCharacter() {
        ReplyText text = new ReplyText();

        assertThat(append(text, (byte) 'a', (byte) 0xC3)).isEqualTo("a");
        assertThat(text.finish()).isEqualTo("\uFFFD");
        assertThat(text.reply()).isEqualTo("a\uFFFD");
    }
}
