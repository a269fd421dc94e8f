package dev.ferry.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Finds, reads and validates the configuration file. It returns a fully valid configuration or throws a
 * {@link ConfigException} naming every problem; it never returns a partly valid one. Stateless and
 * thread-safe.
 */
public final class ConfigLoader {

    private static final String ENV_VAR = "FERRY_CONFIG";

    private ConfigLoader() {
    }

    /** {@code --config PATH} if given, else {@code $FERRY_CONFIG} if set and non-blank, else {@code ~/.ferry/ferry.json5}. */
    public static Path resolvePath(String cliPath, Map<String, String> env) {
        HomePaths home = HomePaths.of(env);
        if (cliPath != null && !cliPath.isBlank()) {
            return home.expand(cliPath);
        }
        String fromEnv = env == null ? null : env.get(ENV_VAR);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return home.expand(fromEnv.trim());
        }
        return home.home().resolve(".ferry").resolve("ferry.json5");
    }

    /** A missing file gives the defaults with {@code fromFile=false}; an unreadable or invalid one throws. */
    public static LoadedConfig load(Path path) throws ConfigException {
        byte[] bytes;
        try {
            if (Files.isDirectory(path)) {
                throw new ConfigException(List.of(path + ": cannot read: is a directory"));
            }
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            return new LoadedConfig(FerryConfig.defaults(), path, false, sha256(new byte[0]));
        } catch (IOException e) {
            throw new ConfigException(List.of(path + ": cannot read: " + describe(e)));
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException(List.of(path + ": cannot read: not valid UTF-8"));
        }
        return new LoadedConfig(bind(text, path), path, true, sha256(bytes));
    }

    /** Parses {@code text} as if it were the file at {@code origin}, which may be null. */
    public static LoadedConfig parse(String text, Path origin) throws ConfigException {
        return new LoadedConfig(bind(text, origin), origin, origin != null, sha256(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** The config as a tree in the file's keys and spellings; secrets are {@code "<redacted>"}, or null when absent. */
    public static ObjectNode toRedactedJson(FerryConfig config) {
        return new RedactedJson().write(config);
    }

    private static FerryConfig bind(String text, Path origin) throws ConfigException {
        ObjectNode tree = Json5Text.parse(text, origin == null ? "<config>" : origin.toString());
        // A relative state.dir belongs next to the file that names it, not wherever the gateway was started.
        Path baseDir = origin == null ? null : origin.toAbsolutePath().getParent();
        List<String> errors = new ArrayList<>();
        FerryConfig config = new ConfigBinder(baseDir, HomePaths.ofProcess()).bind(tree, errors);
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
        return config;
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

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides SHA-256", e);
        }
    }
}
