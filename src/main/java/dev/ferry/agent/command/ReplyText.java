package dev.ferry.agent.command;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A program's stdout turned into reply text as it arrives: bytes are decoded as UTF-8 across read
 * boundaries (a character split between two reads comes out whole with the second), and line breaks at
 * the end of what has arrived are held back until more text follows, so the pieces streamed add up to
 * exactly the reply, whose trailing line breaks are trimmed. Bytes that are not UTF-8 become U+FFFD.
 * Not thread-safe: used only by the run's stdout reader.
 */
final class ReplyText {

    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private final StringBuilder reply = new StringBuilder();
    /** The start of a character whose remaining bytes have not been read yet; at most three bytes. */
    private byte[] partial = new byte[0];
    /** Trailing line breaks not yet shown: part of the reply only if more text follows. */
    private String heldBreaks = "";

    /** Takes the next {@code length} bytes of stdout; returns the new piece of reply text, possibly empty. */
    String append(byte[] bytes, int length) {
        ByteBuffer in = ByteBuffer.allocate(partial.length + length);
        in.put(partial).put(bytes, 0, length).flip();
        return take(decode(in, false));
    }

    /** Ends the text (a character cut short by the end becomes U+FFFD); returns the last piece, possibly empty. */
    String finish() {
        String last = decode(ByteBuffer.wrap(partial), true);
        CharBuffer flushed = CharBuffer.allocate(4);
        decoder.flush(flushed);
        flushed.flip();
        return take(last + flushed);
    }

    /** The reply so far: every piece returned, without the held-back trailing line breaks. */
    String reply() {
        return reply.toString();
    }

    private String decode(ByteBuffer in, boolean endOfInput) {
        // UTF-8 never decodes to more chars than bytes, replacement characters included.
        CharBuffer out = CharBuffer.allocate(in.remaining() + 1);
        decoder.decode(in, out, endOfInput);
        partial = new byte[in.remaining()];
        in.get(partial);
        return out.flip().toString();
    }

    private String take(String decoded) {
        if (decoded.isEmpty()) {
            return "";
        }
        String text = heldBreaks + decoded;
        int end = text.length();
        while (end > 0 && (text.charAt(end - 1) == '\n' || text.charAt(end - 1) == '\r')) {
            end--;
        }
        heldBreaks = text.substring(end);
        String piece = text.substring(0, end);
        reply.append(piece);
        return piece;
    }
}
