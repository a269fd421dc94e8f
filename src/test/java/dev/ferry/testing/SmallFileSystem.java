package dev.ferry.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real, small file system (a tmpfs mounted on an empty directory) that a test can fill to the last
 * byte and free again, to see what Ferry does when its disk is full. Mounting needs root, as this
 * machine and CI have; where mounting is refused the test is skipped, not passed. Close it in a
 * finally (try-with-resources), after closing whatever holds files open on it, or the directory stays
 * mounted. Not thread-safe: one test drives it.
 */
public final class SmallFileSystem implements AutoCloseable {

    private static final String FILLER = "filler";

    private final Path root;
    private boolean mounted = true;

    private SmallFileSystem(Path root) {
        this.root = root;
    }

    /** Mounts a tmpfs of {@code bytes} on {@code dir} (created if missing, must be empty); skips the test if that is refused. */
    public static SmallFileSystem mount(Path dir, long bytes) throws IOException {
        Files.createDirectories(dir);
        Result mount;
        try {
            mount = run(List.of("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", dir.toString()));
        } catch (IOException e) {
            mount = new Result(-1, e.getMessage());
        }
        assumeTrue(mount.exitCode() == 0, "cannot mount a tmpfs on " + dir + " (needs root): " + mount.output());
        return new SmallFileSystem(dir);
    }

    public Path root() {
        return root;
    }

    /** Writes a filler file until the file system has no byte left; returns its size. */
    public long fill() throws IOException {
        long written = 0;
        try (OutputStream out = Files.newOutputStream(root.resolve(FILLER))) {
            // Big blocks first, then pages, so the last free page is taken too.
            for (int block : new int[] {1 << 16, 1 << 12}) {
                byte[] zeros = new byte[block];
                try {
                    while (true) {
                        out.write(zeros);
                        written += block;
                    }
                } catch (IOException full) {
                    if (!String.valueOf(full.getMessage()).contains("No space left")) {
                        throw full;
                    }
                }
            }
        }
        return written;
    }

    /** Deletes the filler: the space it took is free again. */
    public void free() throws IOException {
        Files.deleteIfExists(root.resolve(FILLER));
    }

    /** Unmounts; if something still holds a file open there, detaches it anyway and says so. */
    @Override
    public void close() throws IOException {
        if (!mounted) {
            return;
        }
        mounted = false;
        Result umount = run(List.of("umount", root.toString()));
        if (umount.exitCode() != 0) {
            run(List.of("umount", "-l", root.toString()));
            throw new IllegalStateException("tmpfs on " + root + " was busy (a file still open?): " + umount.output()
                    + "; detached it lazily");
        }
    }

    private record Result(int exitCode, String output) {}

    private static Result run(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return new Result(-1, String.join(" ", command) + ": no answer within 10 s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", command) + ": interrupted", e);
        }
        return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    }
}
