package dev.ferry.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code ferry reload}: asks the running gateway to reload its configuration, and waits for the outcome. */
@Command(name = "reload", mixinStandardHelpOptions = true,
        description = "Reload the running gateway's configuration (like SIGUSR1) and print the outcome.")
final class ReloadCommand implements Callable<Integer> {

    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws InterruptedException {
        return RpcCommand.run(config, "gateway.reload", null);
    }
}
