package dev.ferry.agent.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class EventStreamReaderTest {

    private final List<String> events = new ArrayList<>();
    private final EventStreamReader reader = new EventStreamReader(events::add);

    private void feed(String text) {
        reader.feed(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void handsOnEachEventsDataAtTheBlankLineThatEndsIt() {
        feed("data: {\"a\":1}\n\ndata: {\"b\":2}\n");
        assertThat(events).containsExactly("{\"a\":1}");

        feed("\n");
        assertThat(events).containsExactly("{\"a\":1}", "{\"b\":2}");
    }

    @Test
    void readsTheSameEventsWhateverByteTheReadsAreSplitAt() {
        String stream = ": keep-alive\r\n\r\ndata: {\"content\":\"héllo 🙂\"}\r\n\r\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n";
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        List<String> whole = List.of("{\"content\":\"héllo 🙂\"}", "line one\nline two", "[DONE]");
        for (int cut = 0; cut <= bytes.length; cut++) {
            List<String> seen = new ArrayList<>();
            EventStreamReader split = new EventStreamReader(seen::add);
            split.feed(ByteBuffer.wrap(bytes, 0, cut));
            split.feed(ByteBuffer.wrap(bytes, cut, bytes.length - cut));
            assertThat(seen).as("cut at byte %d", cut).isEqualTo(whole);
        }
    }

    @Test
    void readsByteByByte() {
        byte[] bytes = "data: a\r\n\r\ndata: b\r\rdata: c\n\n".getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            reader.feed(ByteBuffer.wrap(new byte[] {b}));
        }
        assertThat(events).containsExactly("a", "b", "c");
    }

    @Test
    void treatsCrlfLfAndLoneCrAsLineEnds() {
        feed("data: crlf\r\n\r\ndata: lf\n\ndata: cr\r\r");
        assertThat(events).containsExactly("crlf", "lf", "cr");
    }

    @Test
    void ignoresCommentsAndOtherFields() {
        feed(": ping\n\nevent: message\nid: 7\nretry: 100\ndata: x\n\n: OPENROUTER PROCESSING\n\n");
        assertThat(events).containsExactly("x");
    }

    @Test
    void joinsMultiLineDataWithNewlines() {
        feed("data: {\"a\":\ndata:1}\n\n");
        assertThat(events).containsExactly("{\"a\":\n1}");
    }

    @Test
    void keepsSpacesAfterTheFirstOneAfterTheColon() {
        feed("data:no space\n\ndata:  two spaces\n\n");
        assertThat(events).containsExactly("no space", " two spaces");
    }

    @Test
    void finishHandsOnALastEventWithoutItsBlankLine() {
        feed("data: [DONE]");
        assertThat(events).isEmpty();

        reader.finish();
        assertThat(events).containsExactly("[DONE]");
    }
}
