package dev.ferry.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import dev.ferry.config.ConfigException;
import dev.ferry.gateway.Gateway;

/** {@code ferry gateway}: runs until the process is told to stop. */
@Command(name = "gateway", mixinStandardHelpOptions = true, description = "Run the gateway.")
final class GatewayCommand implements Callable<Integer> {

    private static volatile boolean serving;

    @Mixin
    ConfigOption config;

    static boolean isServing() {
        return serving;
    }

    @Override
    public Integer call() throws InterruptedException {
        Gateway gateway;
        try {
            gateway = Gateway.start(config.load());
        } catch (ConfigException e) {
            System.err.println("ferry: invalid configuration " + config.resolve() + ":");
            e.errors().forEach(error -> System.err.println("  " + error));
            return 1;
        } catch (RuntimeException e) {
            System.err.println("ferry: cannot start: " + e.getMessage());
            return 1;
        }
        serving = true;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gateway.close();
            stopped.countDown();
        }, "ferry-shutdown"));
        stopped.await();
        return 0;
    }
}
