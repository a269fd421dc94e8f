package dev.ferry.intake;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads a request body as one strict JSON value, the one reader of every body Ferry takes (channel
 * payloads and RPCs), so that every endpoint accepts the same language. Strict means: UTF-8 only,
 * nothing but whitespace after the value, no key twice in one object, and every string valid Unicode.
 * The last matters because a lone surrogate (an escape such as <code>&#92;udc00</code> spells one)
 * cannot be stored: SQLite keeps it as {@code ?}, so an id with one would never match itself again.
 * Jackson checks the bytes, the keys and the duplicates; this reader builds the tree token by token so
 * that it checks each string as it is read, in the same pass, and knows the path of every refusal. A
 * refusal names that path and never repeats a string's value. Thread-safe and stateless.
 */
public final class StrictJson {

    /** The value read, or why the body was refused; exactly one of the two is null. */
    public record Read(JsonNode value, String error) {
        public boolean ok() {
            return error == null;
        }
    }

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private StrictJson() {}

    public static Read read(byte[] body) {
        if (looksLikeUtf16Or32(body)) {
            return refused("body: not UTF-8 (it looks like UTF-16 or UTF-32)");
        }
        Path path = new Path();
        try (JsonParser parser = FACTORY.createParser(body)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return refused("body: empty; expected a JSON value");
            }
            JsonNode value = value(parser, first, path);
            if (hasMore(parser)) {
                return refused("body: not valid JSON: more data after the JSON value");
            }
            return new Read(value, null);
        } catch (JsonProcessingException e) {
            return refused("body: not valid JSON" + path.at() + ": " + e.getOriginalMessage());
        } catch (UnpairedSurrogate e) {
            return refused("body: not valid Unicode" + (path.isEmpty() ? " at the top level" : path.at())
                    + ": unpaired surrogate " + String.format("U+%04X", (int) e.unit));
        } catch (IOException e) {
            return refused("body: unreadable");
        }
    }

    private static Read refused(String error) {
        return new Read(null, error);
    }

    /**
     * A JSON text in UTF-8 never starts with a NUL, 0xFE or 0xFF, and never has a NUL second byte; those
     * are the marks of UTF-16 and UTF-32, which Jackson would otherwise detect and decode.
     */
    private static boolean looksLikeUtf16Or32(byte[] body) {
        if (body.length == 0) {
            return false;
        }
        int first = body[0] & 0xFF;
        return first == 0 || first == 0xFE || first == 0xFF || (body.length > 1 && body[1] == 0);
    }

    /** Whether anything but whitespace follows the value; data that is not even a token counts as more. */
    private static boolean hasMore(JsonParser parser) {
        try {
            return parser.nextToken() != null;
        } catch (IOException e) {
            return true;
        }
    }

    /**
     * The value that starts with {@code token}. A failure while a key is read leaves the path at the
     * object that holds it; while a value is read, at that value. Recursion is bounded by Jackson's
     * nesting limit.
     */
    private static JsonNode value(JsonParser parser, JsonToken token, Path path) throws IOException {
        switch (token) {
            case START_OBJECT: {
                ObjectNode object = NODES.objectNode();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String name = parser.currentName();
                    path.push(name);
                    object.set(name, value(parser, parser.nextToken(), path));
                    path.pop();
                }
                return object;
            }
            case START_ARRAY: {
                ArrayNode array = NODES.arrayNode();
                for (JsonToken next = parser.nextToken(); next != JsonToken.END_ARRAY; next = parser.nextToken()) {
                    path.push(array.size());
                    array.add(value(parser, next, path));
                    path.pop();
                }
                return array;
            }
            case VALUE_STRING: {
                String text = parser.getText();
                int at = unpairedIndex(text);
                if (at >= 0) {
                    throw new UnpairedSurrogate(text.charAt(at));
                }
                return NODES.textNode(text);
            }
            case VALUE_NUMBER_INT:
                return switch (parser.getNumberType()) {
                    case INT -> NODES.numberNode(parser.getIntValue());
                    case LONG -> NODES.numberNode(parser.getLongValue());
                    default -> NODES.numberNode(parser.getBigIntegerValue());
                };
            case VALUE_NUMBER_FLOAT:
                return NODES.numberNode(parser.getDoubleValue());
            case VALUE_TRUE:
                return NODES.booleanNode(true);
            case VALUE_FALSE:
                return NODES.booleanNode(false);
            case VALUE_NULL:
                return NODES.nullNode();
            default:
                throw new IllegalStateException("a JSON parser never starts a value with " + token);
        }
    }

    /** The index of the first surrogate that is not half of a pair, or -1. */
    static int unpairedIndex(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                } else {
                    return i;
                }
            }
        }
        return -1;
    }

    /** A string that is not valid Unicode; the reader's path says where it is. */
    private static final class UnpairedSurrogate extends IOException {
        final char unit;

        UnpairedSurrogate(char unit) {
            super(null, null);
            this.unit = unit;
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    /** Where the reader is: keys and indexes from the top, shown as {@code media[0].url} like every field error. */
    private static final class Path {
        private final List<Object> segments = new ArrayList<>(4);

        void push(Object segment) {
            segments.add(segment);
        }

        void pop() {
            segments.remove(segments.size() - 1);
        }

        boolean isEmpty() {
            return segments.isEmpty();
        }

        /** {@code " at media[0].url"}, or nothing at the top level. */
        String at() {
            if (segments.isEmpty()) {
                return "";
            }
            StringBuilder text = new StringBuilder(" at ");
            for (int i = 0; i < segments.size(); i++) {
                Object segment = segments.get(i);
                if (segment instanceof Integer index) {
                    text.append('[').append(index).append(']');
                } else {
                    text.append(i == 0 ? "" : ".").append(segment);
                }
            }
            return text.toString();
        }
    }
}
