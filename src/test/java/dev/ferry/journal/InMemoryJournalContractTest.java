package dev.ferry.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;

import dev.ferry.time.WallClock;

/**
 * {@link JournalContract} against {@link InMemoryJournal}, completing its writes on a thread of its own as
 * the durable journal does. Nothing survives the process here, and without one nothing is lost either,
 * so the next start finds the same journal.
 */
class InMemoryJournalContractTest extends JournalContract {

    private final ExecutorService completions = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "in-memory-journal-ack");
        thread.setDaemon(true);
        return thread;
    });

    @AfterEach
    void stopCompletions() {
        completions.shutdownNow();
    }

    @Override
    protected Journal newJournal(WallClock clock) {
        return new InMemoryJournal(clock, completions);
    }

    @Override
    protected Journal reopened(Journal journal) {
        return journal;
    }

    @Override
    protected <T> T whileNoWriteCanComplete(Journal journal, Supplier<T> submit) {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        completions.execute(() -> {
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
            return submit.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            release.countDown();
        }
    }
}
