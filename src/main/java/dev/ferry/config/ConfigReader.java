package dev.ferry.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads one object of the config tree at a dotted path, turning every problem into a "path: reason" error
 * instead of throwing, so that one pass finds them all. A missing key or an explicit {@code null} reads as
 * "not set"; a value of the wrong kind is reported and also reads as "not set". Every key asked for counts
 * as known, and {@link #reportUnknownKeys()} reports the rest here and in every object read below this one.
 * Secret values never reach an error. Not thread-safe: one reader tree per parse.
 */
final class ConfigReader {

    /** An upper bound meaning "none": range errors then read "must be >= min". */
    static final long UNBOUNDED = Long.MAX_VALUE;
    static final int UNBOUNDED_INT = Integer.MAX_VALUE;

    private static final int SHOWN_LIMIT = 40;

    private final ObjectNode node;
    private final String path;
    private final List<String> errors;
    private final Set<String> known = new LinkedHashSet<>();
    private final List<ConfigReader> children = new ArrayList<>();

    private ConfigReader(ObjectNode node, String path, List<String> errors) {
        this.node = node;
        this.path = path;
        this.errors = errors;
    }

    /** A reader of the top-level object that appends its errors to {@code errors}. */
    static ConfigReader root(ObjectNode node, List<String> errors) {
        return new ConfigReader(node, "", errors);
    }

    /** The dotted path of {@code key} in this object, as errors name it. */
    String pathOf(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** How many errors the whole parse has found so far; lets a caller tell whether a read it made failed. */
    int errorCount() {
        return errors.size();
    }

    void error(String key, String reason) {
        errors.add(pathOf(key) + ": " + reason);
    }

    /** The object at {@code key}; an empty one when not set or not an object. */
    ConfigReader object(String key) {
        JsonNode value = value(key);
        ObjectNode object = JsonNodeFactory.instance.objectNode();
        if (value instanceof ObjectNode given) {
            object = given;
        } else if (value != null) {
            // Only the kind, not the value: a token written where its section belongs must not be echoed.
            error(key, "must be an object, got " + kindOf(value));
        }
        ConfigReader child = new ConfigReader(object, pathOf(key), errors);
        children.add(child);
        return child;
    }

    /** Every key present in this object, all counted as known: for objects that are maps, not records. */
    List<String> keys() {
        List<String> keys = new ArrayList<>();
        node.fieldNames().forEachRemaining(keys::add);
        known.addAll(keys);
        return keys;
    }

    String string(String key, String fallback) {
        JsonNode value = value(key);
        if (value == null) {
            return fallback;
        }
        if (!value.isTextual()) {
            error(key, "must be a string, got " + shown(value));
            return fallback;
        }
        return value.textValue();
    }

    String nonBlankString(String key, String fallback) {
        String text = string(key, fallback);
        if (text.isBlank()) {
            error(key, "must not be blank");
            return fallback;
        }
        return text;
    }

    /** An absolute http or https URL, or {@code fallback} when not set. */
    String httpUrl(String key, String fallback) {
        String text = string(key, null);
        if (text == null) {
            return fallback;
        }
        if (!isHttpUrl(text)) {
            error(key, "must be an absolute http(s) URL, got " + shown(JsonNodeFactory.instance.textNode(text)));
            return fallback;
        }
        return text;
    }

    /** A secret string; type errors never show the value, since a misplaced secret is still a secret. */
    Secret secret(String key) {
        JsonNode value = value(key);
        if (value == null) {
            return Secret.NONE;
        }
        if (!value.isTextual()) {
            error(key, "must be a string");
            return Secret.NONE;
        }
        if (!value.textValue().isEmpty() && value.textValue().isBlank()) {
            error(key, "must not be blank");
            return Secret.NONE;
        }
        return Secret.of(value.textValue());
    }

    boolean bool(String key, boolean fallback) {
        JsonNode value = value(key);
        if (value == null) {
            return fallback;
        }
        if (!value.isBoolean()) {
            error(key, "must be a boolean, got " + shown(value));
            return fallback;
        }
        return value.booleanValue();
    }

    /** An integer in {@code [min, max]}, or null when not set or invalid. */
    Long longOrNull(String key, long min, long max) {
        BigDecimal number = integral(key, BigDecimal.valueOf(min), BigDecimal.valueOf(max), max == UNBOUNDED);
        return number == null ? null : number.longValueExact();
    }

    long longValue(String key, long fallback, long min, long max) {
        Long value = longOrNull(key, min, max);
        return value == null ? fallback : value;
    }

    /** An integer in {@code [min, max]}, or null when not set or invalid. */
    Integer intOrNull(String key, int min, int max) {
        BigDecimal number = integral(key, BigDecimal.valueOf(min), BigDecimal.valueOf(max), max == UNBOUNDED_INT);
        return number == null ? null : number.intValueExact();
    }

    int intValue(String key, int fallback, int min, int max) {
        Integer value = intOrNull(key, min, max);
        return value == null ? fallback : value;
    }

    double doubleValue(String key, double fallback, double min, double max) {
        JsonNode value = value(key);
        if (value == null) {
            return fallback;
        }
        if (!value.isNumber() || !Double.isFinite(value.doubleValue())) {
            error(key, "must be a number, got " + shown(value));
            return fallback;
        }
        double number = value.doubleValue();
        if (number < min || number > max) {
            error(key, "must be between " + plain(min) + " and " + plain(max) + ", got " + shown(value));
            return fallback;
        }
        return number;
    }

    /**
     * A value named by a string, parsed by {@code parser}; or null when not set or not accepted.
     * {@code accepted} lists the canonical names for the error.
     */
    <T> T choiceOrNull(String key, Function<String, Optional<T>> parser, List<String> accepted) {
        JsonNode value = value(key);
        if (value == null) {
            return null;
        }
        Optional<T> parsed = value.isTextual() ? parser.apply(value.textValue()) : Optional.empty();
        if (parsed.isEmpty()) {
            error(key, "must be one of " + String.join(", ", accepted) + ", got " + shown(value));
            return null;
        }
        return parsed.get();
    }

    <T> T choice(String key, T fallback, Function<String, Optional<T>> parser, List<String> accepted) {
        T value = choiceOrNull(key, parser, accepted);
        return value == null ? fallback : value;
    }

    /** A list of strings; each bad element is reported with its index. */
    List<String> strings(String key, List<String> fallback) {
        return list(key, fallback, "a list of strings", "a string", item -> item.isTextual() ? item.textValue() : null);
    }

    /**
     * A list of platform user ids as strings: each an integer (written as a number or a string), an
     * {@code @username}, or {@code *} for anyone.
     */
    List<String> userIds(String key, List<String> fallback) {
        return list(key, fallback, "a list of user ids, \"@username\"s or \"*\"", "a user id, an \"@username\" or \"*\"",
                item -> {
                    String text = item.isIntegralNumber() ? item.asText() : item.isTextual() ? item.textValue().strip() : null;
                    return text != null && (text.equals("*") || text.matches("-?\\d{1,20}")
                            || text.matches("@?[A-Za-z0-9_]{3,64}")) ? text : null;
                });
    }

    /**
     * A list whose elements {@code element} reads, answering null for one it refuses; each refused element
     * is reported with its index as not {@code elementWhat}, and then the whole list falls back.
     */
    private List<String> list(String key, List<String> fallback, String listWhat, String elementWhat,
                              Function<JsonNode, String> element) {
        JsonNode value = value(key);
        if (value == null) {
            return fallback;
        }
        if (!value.isArray()) {
            error(key, "must be " + listWhat + ", got " + shown(value));
            return fallback;
        }
        List<String> items = new ArrayList<>();
        boolean valid = true;
        for (int i = 0; i < value.size(); i++) {
            String read = element.apply(value.get(i));
            if (read != null) {
                items.add(read);
            } else {
                error(key + "[" + i + "]", "must be " + elementWhat + ", got " + shown(value.get(i)));
                valid = false;
            }
        }
        return valid ? items : fallback;
    }

    /** Reports every key in this object and the objects read below it that nobody asked for. */
    void reportUnknownKeys() {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                String hint = NearestKey.among(name, known).map(k -> " (did you mean '" + k + "'?)").orElse("");
                error(name, "unknown key" + hint);
            }
        }
        children.forEach(ConfigReader::reportUnknownKeys);
    }

    /** A value shortened for an error message; never call it on a secret. */
    static String shown(JsonNode value) {
        String text = value.toString();
        return text.length() <= SHOWN_LIMIT ? text : text.substring(0, SHOWN_LIMIT - 3) + "...";
    }

    private JsonNode value(String key) {
        known.add(key);
        JsonNode value = node.get(key);
        return value == null || value.isNull() ? null : value;
    }

    private BigDecimal integral(String key, BigDecimal min, BigDecimal max, boolean unbounded) {
        JsonNode value = value(key);
        if (value == null) {
            return null;
        }
        BigDecimal number = exactIntegral(value);
        if (number == null) {
            error(key, "must be an integer, got " + shown(value));
            return null;
        }
        if (number.compareTo(min) < 0 || number.compareTo(max) > 0) {
            error(key, rangeRule(number, min, max, unbounded) + ", got " + shown(value));
            return null;
        }
        return number;
    }

    /** A range with no real upper bound reads as "must be >= min"; the type's limit is only named when hit. */
    private static String rangeRule(BigDecimal number, BigDecimal min, BigDecimal max, boolean unbounded) {
        if (!unbounded) {
            return "must be between " + min + " and " + max;
        }
        return number.compareTo(min) < 0 ? "must be >= " + min : "must be <= " + max;
    }

    /** The number if it is a whole one ({@code 5}, {@code 5.}, {@code 5e3} all count); otherwise null. */
    private static BigDecimal exactIntegral(JsonNode value) {
        if (value.isIntegralNumber()) {
            return new BigDecimal(value.bigIntegerValue());
        }
        if (value.isFloatingPointNumber()) {
            double number = value.doubleValue();
            if (Double.isFinite(number) && number == Math.rint(number)) {
                return new BigDecimal(number);
            }
        }
        return null;
    }

    private static boolean isHttpUrl(String text) {
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            return (scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    /** What kind of value this is, for errors that must not show the value itself. */
    static String kindOf(JsonNode value) {
        if (value.isArray()) {
            return "a list";
        }
        if (value.isTextual()) {
            return "a string";
        }
        if (value.isNumber()) {
            return "a number";
        }
        if (value.isBoolean()) {
            return "a boolean";
        }
        return value.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    private static String plain(double number) {
        return number == Math.rint(number) ? Long.toString((long) number) : Double.toString(number);
    }
}
