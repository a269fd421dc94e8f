package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.agent.AgentBackends;
import dev.ferry.agent.EchoBackend;
import dev.ferry.config.ConfigLoader;

/**
 * A gateway that cannot start leaves nothing open behind it: no journal file held, no journal thread
 * running. Checked through this process's own open files, which is what a leak would hold.
 */
class StartFailureIT {

    @TempDir
    Path dir;

    private String config(int port, String backend) {
        return "{ gateway: { port: " + port + " }, state: { dir: '" + dir.resolve("state") + "' }, agent: { backend: '"
                + backend + "' } }";
    }

    /** Open descriptors of this process that point at a file of the state dir's journal. */
    private long openJournalFiles() throws IOException {
        Path journal = dir.resolve("state").resolve("journal.db").toAbsolutePath();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith(journal.toString());
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }

    private static boolean journalThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(thread -> thread.getName().startsWith("ferry-journal") && thread.isAlive());
    }

    @Test
    void aBackendThisBuildLacksIsRefusedBeforeTheJournalOpens() throws Exception {
        // Every backend SPEC names is built in now: a build of echo alone lacks openai.
        AgentBackends echoOnly = new AgentBackends(Map.of("echo", (agent, context) ->
                new EchoBackend(context.scheduler(), Duration.ZERO)));
        assertThatThrownBy(() -> Gateway.start(ConfigLoader.parse(config(0, "openai"), null), echoOnly))
                .hasMessageContaining("agent.backend");

        assertThat(openJournalFiles()).isZero();
        assertThat(journalThreadAlive()).isFalse();
    }

    @Test
    void aBackendThatFailsToBuildLeavesNoJournalOpen() throws Exception {
        AgentBackends failing = new AgentBackends(Map.of("echo", (agent, context) -> {
            throw new IllegalArgumentException("agent.echo: cannot be built here");
        }));

        assertThatThrownBy(() -> Gateway.start(ConfigLoader.parse(config(0, "echo"), null), failing))
                .hasMessageContaining("cannot be built here");

        assertThat(openJournalFiles()).isZero();
        assertThat(journalThreadAlive()).isFalse();
    }

    @Test
    void aListenerThatCannotBindClosesTheJournalItOpened() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> Gateway.start(ConfigLoader.parse(config(taken.getLocalPort(), "echo"), null)))
                    .isInstanceOf(RuntimeException.class);
        }

        assertThat(openJournalFiles()).isZero();
        assertThat(journalThreadAlive()).isFalse();
    }
}
