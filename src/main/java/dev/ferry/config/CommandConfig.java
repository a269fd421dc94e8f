package dev.ferry.config;

import java.util.List;

/**
 * A local program run per turn: the prompt on stdin, as plain text or as a JSON document with the system
 * prompt and history ({@code input}), and the reply on stdout, at most {@code maxOutputBytes} of it.
 * {@code argv} is immutable, never null.
 */
public record CommandConfig(List<String> argv, long timeoutMs, Input input, long maxOutputBytes) {

    /** 1 MiB: a reply, not a file. */
    public static final long DEFAULT_MAX_OUTPUT_BYTES = 1L << 20;

    /** What the program reads on stdin. */
    public enum Input {
        /** The turn's prompt alone. */
        TEXT,
        /** {@code {"systemPrompt", "history":[{"role","content"}], "prompt", "sessionKey", "conversation"}}. */
        JSON
    }

    public CommandConfig {
        argv = argv == null ? List.of() : List.copyOf(argv);
        input = input == null ? Input.TEXT : input;
    }

    /** Plain-text input and the default output cap. */
    public CommandConfig(List<String> argv, long timeoutMs) {
        this(argv, timeoutMs, Input.TEXT, DEFAULT_MAX_OUTPUT_BYTES);
    }
}
