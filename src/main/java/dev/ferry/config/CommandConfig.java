package dev.ferry.config;

import java.util.List;

/** A local program run per turn: prompt on stdin, reply on stdout. {@code argv} is immutable, never null. */
public record CommandConfig(List<String> argv, long timeoutMs) {

    public CommandConfig {
        argv = argv == null ? List.of() : List.copyOf(argv);
    }
}
