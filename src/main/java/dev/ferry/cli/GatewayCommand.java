package dev.ferry.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import dev.ferry.config.ConfigException;
import dev.ferry.gateway.Gateway;
import dev.ferry.gateway.Signals;

/**
 * {@code ferry gateway}: runs until told to stop. SIGUSR1 reloads the configuration; SIGTERM and SIGINT
 * stop gracefully and exit 0 (the handler must call {@code System.exit} itself, since replacing the
 * JVM's handler removes its exit).
 */
@Command(name = "gateway", mixinStandardHelpOptions = true, description = "Run the gateway.")
final class GatewayCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(GatewayCommand.class);

    private static volatile boolean serving;

    @Mixin
    ConfigOption config;

    static boolean isServing() {
        return serving;
    }

    @Override
    public Integer call() throws InterruptedException {
        // Handlers go in before the gateway announces itself: a SIGUSR1 sent as soon as "Ferry ready" is
        // logged must reload, never kill the process with the JVM's default action.
        AtomicReference<Gateway> running = new AtomicReference<>();
        Signals.handle("USR1", () -> {
            Gateway gateway = running.get();
            if (gateway == null) {
                log.warn("SIGUSR1 while starting: ignored (the configuration is being read now)");
            } else {
                gateway.reload("SIGUSR1");
            }
        });
        Runnable stop = () -> new Thread(() -> {
            Gateway gateway = running.get();
            if (gateway != null) {
                gateway.stopGracefully();
            }
            System.exit(0);
        }, "ferry-stop").start();
        Signals.handle("TERM", stop);
        Signals.handle("INT", stop);
        log.debug("signal handlers installed");
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
        running.set(gateway);
        serving = true;
        // Any other way out (System.exit elsewhere, SIGHUP) still releases the port and the journal.
        Runtime.getRuntime().addShutdownHook(new Thread(gateway::close, "ferry-shutdown"));
        new CountDownLatch(1).await();
        return 0;
    }
}
