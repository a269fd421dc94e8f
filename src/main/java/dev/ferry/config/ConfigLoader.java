package dev.ferry.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds, reads and validates the configuration file. It returns a fully valid configuration or throws a
 * {@link ConfigException} naming every problem; it never returns a partly valid one. Each method takes the
 * {@link ChannelNames} a by-channel key may use, or, without them, the {@linkplain ChannelNames#registered()
 * registered} ones. Stateless and thread-safe.
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

    /**
     * The configuration to start with: a missing file gives the built-in defaults with {@code fromFile=false}
     * (SPEC 3.4); an unreadable, invalid or non-regular file throws, and a FIFO is never opened.
     */
    public static LoadedConfig load(Path path) throws ConfigException {
        return load(path, ChannelNames.registered());
    }

    /** {@link #load(Path)}, where a by-channel key must be one of {@code channels}. */
    public static LoadedConfig load(Path path, ChannelNames channels) throws ConfigException {
        Optional<byte[]> bytes = ConfigFile.readBytes(path);
        if (bytes.isEmpty()) {
            return new LoadedConfig(FerryConfig.defaults(), path, false, sha256(new byte[0]));
        }
        String text = ConfigFile.decode(bytes.get(), path);
        ObjectNode tree = Json5Text.parse(text, path.toString());
        return new LoadedConfig(bind(tree, path, channels), path, true, sha256(bytes.get()));
    }

    /**
     * The configuration a running gateway reloads: unlike {@link #load}, a missing file, or one with nothing
     * but blanks and comments in it, is refused. Read as the defaults it would move the listener to the
     * default port, drop the gateway token and, at the next start, the journal with {@code state.dir}; a
     * file caught mid-rewrite or deleted by mistake must not do that. {@code {}} still means the defaults.
     */
    public static LoadedConfig reload(Path path) throws ConfigException {
        return reload(path, ChannelNames.registered());
    }

    /** {@link #reload(Path)}, where a by-channel key must be one of {@code channels}. */
    public static LoadedConfig reload(Path path, ChannelNames channels) throws ConfigException {
        byte[] bytes = ConfigFile.readBytes(path)
                .orElseThrow(() -> new ConfigException(List.of(path + ": does not exist")));
        Optional<ObjectNode> tree = Json5Text.document(ConfigFile.decode(bytes, path), path.toString());
        if (tree.isEmpty()) {
            throw new ConfigException(List.of(path + ": is empty (only blanks or comments; {} means the defaults)"));
        }
        return new LoadedConfig(bind(tree.get(), path, channels), path, true, sha256(bytes));
    }

    /** Parses {@code text} as if it were the file at {@code origin}, which may be null. */
    public static LoadedConfig parse(String text, Path origin) throws ConfigException {
        return parse(text, origin, ChannelNames.registered());
    }

    /** {@link #parse(String, Path)}, where a by-channel key must be one of {@code channels}. */
    public static LoadedConfig parse(String text, Path origin, ChannelNames channels) throws ConfigException {
        ObjectNode tree = Json5Text.parse(text, origin == null ? "<config>" : origin.toString());
        return new LoadedConfig(bind(tree, origin, channels), origin, origin != null, sha256(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** The config as a tree in the file's keys and spellings; secrets are {@code "<redacted>"}, or null when absent. */
    public static ObjectNode toRedactedJson(FerryConfig config) {
        return new RedactedJson().write(config);
    }

    private static FerryConfig bind(ObjectNode tree, Path origin, ChannelNames channels) throws ConfigException {
        // A relative state.dir belongs next to the file that names it, not wherever the gateway was started.
        Path baseDir = origin == null ? null : origin.toAbsolutePath().getParent();
        List<String> errors = new ArrayList<>();
        FerryConfig config = new ConfigBinder(baseDir, HomePaths.ofProcess(), channels).bind(tree, errors);
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
        return config;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides SHA-256", e);
        }
    }
}
