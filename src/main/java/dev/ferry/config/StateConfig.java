package dev.ferry.config;

import java.nio.file.Path;

/** Where durable state (the journal) lives; {@code ~} is already expanded. */
public record StateConfig(Path dir) {
}
