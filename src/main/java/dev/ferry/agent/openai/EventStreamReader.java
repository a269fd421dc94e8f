package dev.ferry.agent.openai;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Reads a {@code text/event-stream} body incrementally, as the bytes arrive, and hands on each event's
 * data. Lines end with LF, CRLF or a lone CR (a CRLF split between two reads is one line end); a line
 * starting with {@code :} is a comment (a keep-alive); {@code data:} lines of one event are joined with
 * LF and the event is dispatched at the blank line that ends it; other fields ({@code event}, {@code id},
 * {@code retry}) are ignored, as chat-completions streams carry none we need. Bytes are decoded only per
 * whole line, so a multi-byte character split between reads comes out whole.
 * Not thread-safe: one body's reads are fed by one subscriber, one signal at a time.
 */
final class EventStreamReader {

    /** A line longer than this is no chunk of a chat completion; refusing it bounds the memory a server can make us hold. */
    static final int MAX_LINE_BYTES = 4 * 1024 * 1024;

    private final Consumer<String> onData;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final StringBuilder data = new StringBuilder();
    private boolean eventHasData;
    /** The previous byte was a CR, so an LF that follows it ends nothing more. */
    private boolean afterCr;

    /** @param onData hears each event's data, in order */
    EventStreamReader(Consumer<String> onData) {
        this.onData = onData;
    }

    /** Reads every byte of {@code bytes}; an event completed by them is handed on before this returns. */
    void feed(ByteBuffer bytes) {
        while (bytes.hasRemaining()) {
            byte b = bytes.get();
            if (b == '\n' && afterCr) {
                afterCr = false;
                continue;
            }
            afterCr = b == '\r';
            if (b == '\n' || b == '\r') {
                endLine();
            } else {
                if (line.size() >= MAX_LINE_BYTES) {
                    throw new IllegalStateException("an event-stream line is longer than " + MAX_LINE_BYTES + " bytes");
                }
                line.write(b);
            }
        }
    }

    /**
     * Ends the body: a last line or event that the server did not close with a blank line still counts,
     * as a lenient client reads it.
     */
    void finish() {
        if (line.size() > 0) {
            endLine();
        }
        dispatch();
    }

    private void endLine() {
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (text.isEmpty()) {
            dispatch();
            return;
        }
        if (text.charAt(0) == ':') {
            return;
        }
        int colon = text.indexOf(':');
        String field = colon < 0 ? text : text.substring(0, colon);
        if (!field.equals("data")) {
            return;
        }
        String value = colon < 0 ? "" : text.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        if (eventHasData) {
            data.append('\n');
        }
        data.append(value);
        eventHasData = true;
    }

    private void dispatch() {
        if (!eventHasData) {
            return;
        }
        String event = data.toString();
        data.setLength(0);
        eventHasData = false;
        onData.accept(event);
    }
}
