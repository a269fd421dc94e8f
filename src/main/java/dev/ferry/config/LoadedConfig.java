package dev.ferry.config;

import java.nio.file.Path;

/**
 * A validated configuration and where it came from. {@code hash} is the lowercase hex SHA-256 of the file's
 * bytes (of the empty input when there was no file), the value {@code config.patch} compares {@code baseHash} to.
 */
public record LoadedConfig(FerryConfig config, Path path, boolean fromFile, String hash) {
}
