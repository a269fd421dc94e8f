package dev.ferry.agent.command;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class StderrTailTest {

    private static void append(StderrTail tail, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        tail.append(bytes, bytes.length);
    }

    @Test
    void keepsLinesJoinedOnOneLine() {
        StderrTail tail = new StderrTail(64);
        append(tail, "first\n");
        append(tail, "second\r\nthird\n");

        assertThat(tail.text()).isEqualTo("first | second | third");
    }

    @Test
    void keepsOnlyTheLastBytesAndSaysEarlierOutputWasCut() {
        StderrTail tail = new StderrTail(8);
        append(tail, "0123456789");
        append(tail, "ab");
        append(tail, "0123456789abcdefXYZ");

        assertThat(tail.text()).isEqualTo("...bcdefXYZ");
    }
}
