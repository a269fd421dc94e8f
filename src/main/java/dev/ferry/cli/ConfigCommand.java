package dev.ferry.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import dev.ferry.config.ConfigException;
import dev.ferry.config.LoadedConfig;

/** {@code ferry config ...}: work with the configuration file. */
@Command(name = "config", mixinStandardHelpOptions = true, description = "Validate the configuration.",
        subcommands = ConfigCommand.Validate.class)
final class ConfigCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    /** {@code ferry config validate}: exit 0 when valid, else every error and exit 1. */
    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = "Check the configuration file; print every error with its path.")
    static final class Validate implements Callable<Integer> {

        @Mixin
        ConfigOption config;

        @Override
        public Integer call() {
            try {
                LoadedConfig loaded = config.load();
                System.out.println(loaded.fromFile()
                        ? "ok: " + loaded.path() + " is valid"
                        : "ok: " + loaded.path() + " does not exist; the built-in defaults apply");
                return 0;
            } catch (ConfigException e) {
                System.err.println("invalid: " + config.resolve());
                e.errors().forEach(error -> System.err.println("  " + error));
                return 1;
            }
        }
    }
}
