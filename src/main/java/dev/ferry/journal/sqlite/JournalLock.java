package dev.ferry.journal.sqlite;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import dev.ferry.journal.JournalException;

/**
 * One gateway per SQLite journal: an exclusive lock on {@code <journal>.lock}, held from open to close,
 * holding the owner's pid so that a refused second gateway can name it. The lock is the operating
 * system's, so it ends with the process, a kill -9 included, and a crash leaves nothing to clean up.
 * A file of its own, because SQLite takes POSIX locks on the journal itself, and closing any other
 * descriptor of that file would drop them. The file stays after close; removing it would race the
 * next owner's open.
 */
final class JournalLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private JournalLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock beside {@code journal}, or refuses with the holder's pid when another has it. */
    static JournalLock acquire(Path journal) throws IOException {
        Path path = journal.resolveSibling(journal.getFileName() + ".lock");
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            FileLock lock = tryLock(channel);
            if (lock == null) {
                String holder = holder(path);
                throw new JournalException("journal " + journal + " is in use by another Ferry gateway"
                        + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                        + "; one gateway per SQLite journal: stop it, or give this one another state.dir", null);
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            return new JournalLock(channel, lock);
        } catch (IOException | RuntimeException e) {
            // Closing the channel releases a lock taken on it, so nothing is left held.
            channel.close();
            throw e;
        }
    }

    /** The lock, or null when another process, or another open in this one, holds it. */
    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null;
        }
    }

    private static String holder(Path path) {
        try {
            return Files.readString(path, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // The descriptor is gone either way, and the lock with it.
        }
    }
}
