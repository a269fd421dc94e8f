package dev.ferry.journal.sqlite;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

import org.junit.jupiter.api.io.TempDir;

import dev.ferry.config.JournalSync;
import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalContract;
import dev.ferry.time.WallClock;

/** {@link JournalContract} against {@link SqliteJournal}: each journal a file of its own, reopened as the next start would. */
class SqliteJournalContractTest extends JournalContract {

    @TempDir
    Path dir;

    private final Map<Journal, Path> files = new IdentityHashMap<>();

    @Override
    protected Journal newJournal(WallClock clock) {
        return open(dir.resolve("journal-" + files.size()).resolve("journal.db"));
    }

    /** Closes {@code journal} as a stopping gateway would and opens the same file again, as the next start would. */
    @Override
    protected Journal reopened(Journal journal) {
        journal.close();
        return open(files.get(journal));
    }

    private Journal open(Path file) {
        SqliteJournal journal = SqliteJournal.open(file, JournalSync.FULL, clock);
        files.put(journal, file);
        return journal;
    }

    /** Holds the writer, so what {@code submit} writes queues up behind it and commits once it is let go. */
    @Override
    protected <T> T whileNoWriteCanComplete(Journal journal, Supplier<T> submit) {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Void> holding = ((SqliteJournal) journal).onWriter(writer -> {
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertThat(held.await(5, SECONDS)).isTrue();
            return submit.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            release.countDown();
            holding.orTimeout(5, SECONDS).join();
        }
    }
}
