package dev.ferry.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code ferry status}: asks the running gateway named by the configuration for its status. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Show the running gateway's status.")
final class StatusCommand implements Callable<Integer> {

    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws InterruptedException {
        return RpcCommand.run(config, "status", null);
    }
}
