package dev.ferry.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Named pipes made by the system's {@code mkfifo}: a path that blocks whoever opens it until the other end does. */
public final class Fifos {

    private Fifos() {
    }

    /** Makes a FIFO at {@code path} and returns it. */
    public static Path make(Path path) throws IOException, InterruptedException {
        Process mkfifo = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        if (!mkfifo.waitFor(10, TimeUnit.SECONDS) || mkfifo.exitValue() != 0) {
            throw new IllegalStateException("mkfifo " + path + " failed");
        }
        if (Files.isRegularFile(path) || !Files.exists(path)) {
            throw new IllegalStateException(path + " is not a FIFO");
        }
        return path;
    }
}
