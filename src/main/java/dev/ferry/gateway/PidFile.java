package dev.ferry.gateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code <state.dir>/ferry.pid}: written once the gateway serves, removed at its stop only if it is still ours. */
final class PidFile {
    private static final Logger log = LoggerFactory.getLogger(PidFile.class);

    private final Path path;

    PidFile(Path stateDir) {
        this.path = stateDir.resolve("ferry.pid");
    }

    void write() {
        try {
            Files.createDirectories(path.getParent());
            Files.writeString(path, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            log.warn("cannot write pid file path={} reason={}", path, e.getMessage());
        }
    }

    void delete() {
        try {
            String content = Files.readString(path).trim();
            // Only our own: another gateway may have started on the same state dir since.
            if (content.equals(String.valueOf(ProcessHandle.current().pid()))) {
                Files.deleteIfExists(path);
            }
        } catch (IOException ignored) {
            // No pid file, nothing to remove.
        }
    }
}
