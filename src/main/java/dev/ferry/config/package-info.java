/**
 * Configuration: reads the one JSON5 file into immutable records, validates it naming path and
 * reason; never holds secrets in a printable form.
 *
 * <p>{@link dev.ferry.config.ConfigLoader} finds the file ({@code --config}, then {@code $FERRY_CONFIG},
 * then {@code ~/.ferry/ferry.json5}), parses it, and hands the gateway a {@link dev.ferry.config.LoadedConfig}
 * or a {@link dev.ferry.config.ConfigException} listing every problem found. It never hands on a
 * half-valid configuration, and never prints a {@link dev.ferry.config.Secret}. It opens nothing but a
 * regular file, and a reload never takes a missing or empty file for the built-in defaults. The channel
 * names it accepts are handed in ({@link dev.ferry.config.ChannelNames}, the channel catalog's), since it
 * imports no other package; which backends this build has is the build check's to say, after parsing.
 */
package dev.ferry.config;
