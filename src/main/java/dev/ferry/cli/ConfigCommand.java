package dev.ferry.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import dev.ferry.agent.AgentBackends;
import dev.ferry.config.ConfigException;
import dev.ferry.config.ConfigFile;
import dev.ferry.config.LoadedConfig;
import dev.ferry.control.BuildCheck;

/** {@code ferry config ...}: validate the file, or read and patch the running gateway's configuration. */
@Command(name = "config", mixinStandardHelpOptions = true, description = "Validate, show or patch the configuration.",
        subcommands = {ConfigCommand.Validate.class, ConfigCommand.Get.class, ConfigCommand.Patch.class})
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
                // The same check a start makes: a file that validates is one the gateway starts with.
                new BuildCheck(AgentBackends.BUILT_IN).check(loaded.config());
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

    /** {@code ferry config get}: the running gateway's configuration, secrets redacted, with its hash. */
    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Print the running gateway's configuration (secrets redacted) and its hash.")
    static final class Get implements Callable<Integer> {

        @Mixin
        ConfigOption config;

        @Override
        public Integer call() throws InterruptedException {
            return RpcCommand.run(config, "config.get", null);
        }
    }

    /** {@code ferry config patch '<json5>'}: a merge patch, applied and reloaded by the running gateway. */
    @Command(name = "patch", mixinStandardHelpOptions = true,
            description = "Merge a JSON5 patch (RFC 7396) into the running gateway's configuration and reload it.")
    static final class Patch implements Callable<Integer> {

        @Mixin
        ConfigOption config;

        @Parameters(paramLabel = "PATCH", description = "JSON5 merge patch, e.g. '{ messages: { inbound: { debounceMs: 500 } } }'")
        String patch;

        @Option(names = "--base-hash", description = "Refuse if the file changed since this hash (default: the file's current hash).")
        String baseHash;

        @Override
        public Integer call() throws InterruptedException {
            String hash = baseHash;
            if (hash == null) {
                try {
                    hash = ConfigFile.hash(new ConfigFile(config.resolve()).read());
                } catch (ConfigException e) {
                    System.err.println("ferry: " + String.join("; ", e.errors()));
                    return 1;
                }
            }
            var params = RpcClient.object().put("raw", patch).put("baseHash", hash);
            return RpcCommand.run(config, "config.patch", params);
        }
    }

}
