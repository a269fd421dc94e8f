package dev.ferry.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A throwaway PostgreSQL cluster for the tests. It is {@code initdb} into a fresh directory on tmpfs
 * ({@code /dev/shm} when there is one), with trust authentication for one user, started on a free
 * loopback port with {@code fsync} left on, and stopped and deleted on close. When the tests run as root
 * the server runs as the {@code postgres} user, because {@code initdb} refuses root. The binaries are
 * Debian's, under {@code /usr/lib/postgresql/<version>/bin}; {@code .ci/run} installs them.
 */
public final class PostgresCluster implements AutoCloseable {
    public static final String USER = "ferry";
    private static final Path DEBIAN_ROOT = Path.of("/usr/lib/postgresql");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

    private final Path bin;
    private final Path dir;
    private final int port;

    private PostgresCluster(Path bin, Path dir, int port) {
        this.bin = bin;
        this.dir = dir;
        this.port = port;
    }

    /** The newest installed server's binaries, if any. */
    public static Optional<Path> binaries() {
        if (!Files.isDirectory(DEBIAN_ROOT)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(DEBIAN_ROOT)) {
            return versions.map(version -> version.resolve("bin"))
                    .filter(bin -> Files.isExecutable(bin.resolve("initdb")) && Files.isExecutable(bin.resolve("pg_ctl")))
                    .max(Comparator.comparingInt(PostgresCluster::majorVersion));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static int majorVersion(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Skips the calling test when no server is installed, unless {@code FERRY_REQUIRE_POSTGRES=1} (CI),
     * where a missing server fails it.
     */
    public static void requireInstalled() {
        boolean present = binaries().isPresent();
        String why = "a PostgreSQL server under " + DEBIAN_ROOT + " is needed for the PostgreSQL tests;"
                + " .ci/run installs it (apt-get install postgresql)";
        if (!present && "1".equals(System.getenv("FERRY_REQUIRE_POSTGRES"))) {
            Assertions.fail("FERRY_REQUIRE_POSTGRES=1 but " + why);
        }
        Assumptions.assumeTrue(present, why);
    }

    /** Creates and starts a cluster; fails with the server's own words when it cannot. */
    public static PostgresCluster start() throws IOException, InterruptedException {
        Path bin = binaries().orElseThrow(() -> new IllegalStateException(
                "no PostgreSQL server under " + DEBIAN_ROOT + " (Debian's postgresql package; .ci/run installs it)"));
        Path tmpfs = Path.of("/dev/shm");
        Path dir = Files.createTempDirectory(Files.isDirectory(tmpfs) && Files.isWritable(tmpfs) ? tmpfs : Path.of(
                System.getProperty("java.io.tmpdir")), "ferry-pg-");
        if (runningAsRoot()) {
            UserPrincipal postgres = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
            Files.setOwner(dir, postgres);
        }
        PostgresCluster cluster = new PostgresCluster(bin, dir, freePort());
        try {
            cluster.run(bin.resolve("initdb").toString(), "-D", cluster.data().toString(), "-U", USER,
                    "--auth=trust", "-E", "UTF8", "--no-sync");
            cluster.run(bin.resolve("pg_ctl").toString(), "-D", cluster.data().toString(), "-w", "-t", "60",
                    "-l", dir.resolve("server.log").toString(),
                    "-o", "-p " + cluster.port + " -k " + dir + " -c listen_addresses=127.0.0.1", "start");
            return cluster;
        } catch (IOException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public int port() {
        return port;
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), USER, "");
    }

    /** Stops the server at once (the data is thrown away) and deletes its directory. */
    @Override
    public void close() {
        try {
            if (Files.exists(data().resolve("postmaster.pid"))) {
                run(bin.resolve("pg_ctl").toString(), "-D", data().toString(), "-m", "immediate", "-w", "stop");
            }
        } catch (IOException | RuntimeException e) {
            // The directory goes either way; a server left running loses its files and exits.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            deleteTree(dir);
        }
    }

    private Path data() {
        return dir.resolve("data");
    }

    /** Runs a server binary to completion, as the postgres user when we are root; its output names any failure. */
    private void run(String... command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>();
        if (runningAsRoot()) {
            line.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        line.addAll(List.of(command));
        Path output = Files.createTempFile("ferry-pg-command-", ".log");
        try {
            Process process = new ProcessBuilder(line).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in " + COMMAND_TIMEOUT.toSeconds() + " s");
            }
            if (process.exitValue() != 0) {
                String log = Files.exists(dir.resolve("server.log")) ? Files.readString(dir.resolve("server.log")) : "";
                throw new IOException(String.join(" ", command) + " exited " + process.exitValue() + ": "
                        + Files.readString(output) + log);
            }
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static boolean runningAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // Best effort: a throwaway directory under tmpfs.
        }
    }
}
