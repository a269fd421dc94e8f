package dev.ferry.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Optional;

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
        Optional<byte[]> bytes = readBytes(path);
        return bytes.isEmpty() ? "" : decode(bytes.get(), path);
    }

    /**
     * The bytes of the file at {@code path}, or empty when there is none. Only a regular file (or a link
     * to one) is opened: opening a FIFO blocks until some writer comes, and a device may never end.
     */
    static Optional<byte[]> readBytes(Path path) throws ConfigException {
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            if (attributes.isDirectory()) {
                throw unreadable(path, "is a directory");
            }
            if (!attributes.isRegularFile()) {
                throw unreadable(path, "not a regular file (a FIFO, socket or device)");
            }
            return Optional.of(Files.readAllBytes(path));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw unreadable(path, describe(e));
        }
    }

    /** The bytes as UTF-8 text; anything that is not valid UTF-8 is refused rather than replaced. */
    static String decode(byte[] bytes, Path path) throws ConfigException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw unreadable(path, "not valid UTF-8");
        }
    }

    /** True when the file's text holds no document at all, only blanks and comments; {@code {}} is a document. */
    public boolean holdsNothing(String text) throws ConfigException {
        return Json5Text.document(text, path.toString()).isEmpty();
    }

    private static ConfigException unreadable(Path path, String reason) {
        return new ConfigException(List.of(path + ": cannot read: " + reason));
    }

    /** The I/O failure in words; many exceptions carry only the path as their message. */
    private static String describe(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException failure) {
            return failure.getReason() != null ? failure.getReason() : e.getClass().getSimpleName();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
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
