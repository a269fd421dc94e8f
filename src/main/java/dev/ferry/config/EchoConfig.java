package dev.ferry.config;

/** The offline echo backend; {@code delayMs} makes each turn take that long. */
public record EchoConfig(long delayMs) {
}
