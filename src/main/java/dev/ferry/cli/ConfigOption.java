package dev.ferry.cli;

import java.nio.file.Path;
import java.util.Optional;

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

    /**
     * For a command that talks to a running gateway: the configuration that says where it is, or empty
     * having printed why the file is invalid (the command then exits 1).
     */
    Optional<LoadedConfig> loadOrExplain() {
        try {
            return Optional.of(load());
        } catch (ConfigException e) {
            System.err.println("ferry: invalid configuration: " + String.join("; ", e.errors()));
            return Optional.empty();
        }
    }
}
