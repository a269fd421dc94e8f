package dev.ferry.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;

/**
 * Parses the JSON5 subset Ferry accepts (comments, unquoted keys, trailing commas, single quotes, {@code +1},
 * {@code .5}, {@code 5.}) into a tree. Duplicate keys are syntax errors, since the last one silently winning
 * hides mistakes. A syntax error never quotes the offending token, which may be a secret.
 */
final class Json5Text {

    private static final int REASON_LIMIT = 120;

    private Json5Text() {
    }

    /** A mapper configured for the config file; built per parse because configs are parsed rarely. */
    static JsonMapper mapper() {
        return JsonMapper.builder()
                .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS,
                        JsonReadFeature.ALLOW_UNQUOTED_FIELD_NAMES,
                        JsonReadFeature.ALLOW_TRAILING_COMMA,
                        JsonReadFeature.ALLOW_SINGLE_QUOTES,
                        JsonReadFeature.ALLOW_LEADING_PLUS_SIGN_FOR_NUMBERS,
                        JsonReadFeature.ALLOW_LEADING_DECIMAL_POINT_FOR_NUMBERS,
                        JsonReadFeature.ALLOW_TRAILING_DECIMAL_POINT_FOR_NUMBERS)
                .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
    }

    /**
     * The top-level object of {@code text}; an empty object when the text holds nothing but blanks and
     * comments. {@code label} names the input in errors.
     */
    static ObjectNode parse(String text, String label) throws ConfigException {
        return document(text, label).orElseGet(JsonNodeFactory.instance::objectNode);
    }

    /** The top-level object of {@code text}, or empty when the text holds nothing but blanks and comments. */
    static Optional<ObjectNode> document(String text, String label) throws ConfigException {
        String body = text.startsWith("\uFEFF") ? text.substring(1) : text;
        JsonNode tree;
        try {
            tree = mapper().readTree(body);
        } catch (JsonProcessingException e) {
            throw new ConfigException(List.of(label + ": syntax error" + where(e.getLocation()) + ": " + reason(e)));
        }
        if (tree == null || tree.isMissingNode()) {
            return Optional.empty();
        }
        if (!(tree instanceof ObjectNode object)) {
            throw new ConfigException(List.of(label + ": the top level must be an object, got " + ConfigReader.kindOf(tree)));
        }
        String broken = unpairedSurrogateAt(object, "");
        if (broken != null) {
            throw new ConfigException(List.of(label + ": not valid Unicode at " + broken
                    + ": an unpaired surrogate (a \\uD800-\\uDFFF escape without its pair)"));
        }
        return Optional.of(object);
    }

    /**
     * The path of the first key or string holding half a surrogate pair, or null. Escapes can write one,
     * and it would be stored as {@code ?}: a token or a URL that silently differs from the one written.
     */
    private static String unpairedSurrogateAt(JsonNode node, String path) {
        if (node.isTextual()) {
            return hasUnpairedSurrogate(node.textValue()) ? (path.isEmpty() ? "the top level" : path) : null;
        }
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String found = unpairedSurrogateAt(node.get(i), path + "[" + i + "]");
                if (found != null) {
                    return found;
                }
            }
        }
        var fields = node.fields();
        while (fields.hasNext()) {
            var field = fields.next();
            String fieldPath = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
            if (hasUnpairedSurrogate(field.getKey())) {
                return (path.isEmpty() ? "the top level" : path) + " (a key)";
            }
            String found = unpairedSurrogateAt(field.getValue(), fieldPath);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static boolean hasUnpairedSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    private static String where(JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return "";
        }
        return " at line " + location.getLineNr() + " column " + location.getColumnNr();
    }

    /** Jackson's reason, first line only, without any token it quotes at length. */
    static String reason(JsonProcessingException e) {
        String message = e.getOriginalMessage() == null ? "invalid input" : e.getOriginalMessage();
        String reason = message.lines().findFirst().orElse("invalid input").strip();
        if (reason.startsWith("Unrecognized token")) {
            reason = "unrecognized token (strings must be quoted)";
        } else if (reason.startsWith("Non-standard token")) {
            reason = "NaN and Infinity are not numbers here";
        } else if (reason.startsWith("Trailing token")) {
            reason = "unexpected content after the top-level object";
        }
        return reason.length() <= REASON_LIMIT ? reason : reason.substring(0, REASON_LIMIT - 3) + "...";
    }
}
