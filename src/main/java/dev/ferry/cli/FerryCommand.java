package dev.ferry.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ferry} entry point. */
@Command(name = "ferry", mixinStandardHelpOptions = true, versionProvider = FerryCommand.Version.class,
        description = "A self-hosted gateway between messaging channels and an AI agent.")
public final class FerryCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The subcommands by name, in the order the usage lists them. */
    private static final Map<String, Class<?>> SUBCOMMANDS = subcommands(GatewayCommand.class, ConfigCommand.class,
            StatusCommand.class, SendCommand.class, ReloadCommand.class, SelfCheckCommand.class);

    public static void main(String[] args) {
        setJvmDefaults();
        int exitCode = commandLine(args).execute(args);
        if (exitCode != 0 || !GatewayCommand.isServing()) {
            System.exit(exitCode);
        }
    }

    /**
     * The command line for {@code args}. Building a command's model reflects over every option it has, which
     * took a quarter of a second for all six on two cores: when the first word names a subcommand, only that one
     * is built. Its usage and errors read the same, since it is still a subcommand of {@code ferry}.
     */
    static CommandLine commandLine(String... args) {
        CommandLine root = new CommandLine(new FerryCommand());
        Class<?> named = args.length > 0 ? SUBCOMMANDS.get(args[0]) : null;
        for (Class<?> subcommand : named != null ? List.<Class<?>>of(named) : SUBCOMMANDS.values()) {
            root.addSubcommand(subcommand);
        }
        return root;
    }

    private static Map<String, Class<?>> subcommands(Class<?>... classes) {
        Map<String, Class<?>> byName = new LinkedHashMap<>();
        for (Class<?> subcommand : classes) {
            byName.put(subcommand.getAnnotation(Command.class).name(), subcommand);
        }
        return byName;
    }

    /**
     * JVM-wide settings read once, when the classes they configure first load, so they are set before
     * anything else runs; a {@code -D} given in {@code FERRY_JAVA_OPTS} wins. On two cores the common
     * ForkJoinPool has parallelism 1, and {@code CompletableFuture} then starts a thread per task: the JDK
     * HTTP client completes every {@code sendAsync} there. The client keeps an idle connection 1200 s by
     * default; 20 s keeps one warm under load, lets it go soon after, and is shorter than the 30 s after
     * which common servers close it themselves.
     */
    static void setJvmDefaults() {
        setUnlessGiven("java.util.concurrent.ForkJoinPool.common.parallelism",
                String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors() - 1)));
        setUnlessGiven("jdk.httpclient.keepalive.timeout", "20");
    }

    private static void setUnlessGiven(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = FerryCommand.class.getPackage().getImplementationVersion();
            return new String[] {"ferry " + (version == null ? "dev" : version)};
        }
    }
}
