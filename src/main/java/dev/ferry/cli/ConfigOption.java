package dev.ferry.cli;

import java.nio.file.Path;

import picocli.CommandLine.Option;

import dev.ferry.config.ConfigException;
import dev.ferry.config.ConfigLoader;
import dev.ferry.config.LoadedConfig;

/** The {@code --config} option every command shares, resolved as SPEC 3.4 says. */
final class ConfigOption {

    @Option(names = {"-c", "--config"}, paramLabel = "PATH",
            description = "Configuration file (default: $FERRY_CONFIG, else ~/.ferry/ferry.json5).")
    String path;

    Path resolve() {
        return ConfigLoader.resolvePath(path, System.getenv());
    }

    LoadedConfig load() throws ConfigException {
        return ConfigLoader.load(resolve());
    }
}
