package dev.ferry.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ferry} entry point. */
@Command(name = "ferry", mixinStandardHelpOptions = true, versionProvider = FerryCommand.Version.class,
        description = "A self-hosted gateway between messaging channels and an AI agent.",
        subcommands = {GatewayCommand.class, ConfigCommand.class, StatusCommand.class, ReloadCommand.class,
                SelfCheckCommand.class})
public final class FerryCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        int exitCode = new CommandLine(new FerryCommand()).execute(args);
        if (exitCode != 0 || !GatewayCommand.isServing()) {
            System.exit(exitCode);
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
