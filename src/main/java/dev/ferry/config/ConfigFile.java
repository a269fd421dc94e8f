package dev.ferry.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The configuration file as text, for the edits {@code config.patch} and {@code config.apply} make:
 * read with its hash, parsed to a tree, and replaced atomically with the previous version kept as
 * {@code <file>.bak}. A secret given as {@code "<redacted>"} (what {@code config.get} shows) keeps its
 * current value, so a read-modify-write round trip never wipes a token. Not thread-safe: the caller
 * serialises edits.
 */
public final class ConfigFile {

    static final String REDACTED = "<redacted>";
    private static final List<List<String>> SECRET_PATHS = List.of(
            List.of("gateway", "auth", "token"),
            List.of("channels", "webhook", "token"),
            List.of("channels", "telegram", "botToken"));

    private final Path path;

    public ConfigFile(Path path) {
        this.path = path;
    }

    /** The file's text, or "" when it does not exist (the built-in defaults). */
    public String read() throws ConfigException {
        try {
            return Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new ConfigException(List.of(path + ": cannot read: " + e.getMessage()));
        }
    }

    public static String hash(String text) {
        return ConfigLoader.sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The text as a JSON5 tree; an empty text is an empty object. */
    public ObjectNode tree(String text) throws ConfigException {
        return Json5Text.parse(text, path.toString());
    }

    /** Parses JSON5 text that is not the file itself, such as a patch; {@code label} names it in errors. */
    public static ObjectNode parseText(String text, String label) throws ConfigException {
        return Json5Text.parse(text, label);
    }

    /** Replaces every secret given as "<redacted>" in {@code edited} by its value in {@code current}. */
    public static void keepRedactedSecrets(ObjectNode edited, JsonNode current) {
        for (List<String> secretPath : SECRET_PATHS) {
            JsonNode parent = edited;
            JsonNode currentParent = current;
            for (String step : secretPath.subList(0, secretPath.size() - 1)) {
                parent = parent == null ? null : parent.get(step);
                currentParent = currentParent == null ? null : currentParent.get(step);
            }
            String leaf = secretPath.get(secretPath.size() - 1);
            if (parent instanceof ObjectNode object && object.path(leaf).asText("").equals(REDACTED)) {
                JsonNode original = currentParent == null ? null : currentParent.get(leaf);
                if (original == null) {
                    object.remove(leaf);
                } else {
                    object.set(leaf, original);
                }
            }
        }
    }

    /** Writes {@code text} to a temporary file beside the target, keeps the old file as .bak, then moves it in place. */
    public void writeAtomically(String text) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, path.getFileName().toString(), ".tmp");
        try {
            Files.writeString(temp, text, StandardCharsets.UTF_8);
            if (Files.exists(path)) {
                Files.copy(path, path.resolveSibling(path.getFileName() + ".bak"), StandardCopyOption.REPLACE_EXISTING);
            }
            try {
                Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, path, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
