package dev.ferry.journal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group-commit engine of a durable journal, apart from any database: every write goes through one
 * writer thread that commits whatever is queued, up to {@value #MAX_BATCH} writes, in one transaction,
 * so concurrent writes share one sync. A write's future completes only after its commit, and in commit
 * order, on a completion thread of its own, so a caller may chain further journal writes without deadlock.
 * Thread-safe; {@link #submit} may be called from any thread.
 *
 * <p>The invariant: between batches the engine holds one open transaction with nothing in it. The writer
 * issues BEGIN, COMMIT and ROLLBACK through {@link Transactions} itself, because an engine may roll a
 * transaction back on its own after some failures (SQLite does on SQLITE_FULL and I/O errors). A failed
 * write is rolled back and answered with its failure, never stored. While the disk is full every write
 * fails with {@link JournalUnavailableException} and {@link #health()} says so, until one commits again.
 * The writer also asks the engine whether its storage is still the one it opened, after each batch and
 * every second when idle; once it is not, nothing is acknowledged any more.
 */
public final class GroupCommitWriter {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitWriter.class);
    static final int MAX_BATCH = 2_000;
    /** How long the writer waits for work before it looks at the storage again. */
    private static final long IDLE_CHECK_SECONDS = 1;

    /**
     * The engine-specific steps of the writer's transactions, all called on the writer thread only. A
     * step that fails throws; the writer decides what the failure means for the batch.
     */
    public interface Transactions {

        /** Begins the next transaction. */
        void begin() throws Exception;

        /** Commits the open transaction: once this returns, its writes are stored. */
        void commit() throws Exception;

        /** Rolls back the open transaction, if the engine has not already rolled it back itself. */
        void rollback() throws Exception;

        /** Makes what the engine holds in memory match the transaction just committed. */
        void committed();

        /** Forgets what the engine holds in memory for the open transaction, which is about to be rolled back. */
        void abandoned();

        /** Rows changed since the engine opened: a commit that changed any proves there is space again. */
        long changes() throws Exception;

        /** Whether {@code failure} (or a cause of it) says the storage is full. */
        boolean isDiskFull(Throwable failure);

        /**
         * Null while the storage is the one the journal opened; otherwise what became of it, in a few
         * words that follow the journal's name ("was removed").
         */
        String lostStorage();
    }

    /** One write: runs inside the batch transaction; its future completes after the commit. */
    @FunctionalInterface
    public interface Body<T> {
        T run() throws Exception;
    }

    private static final class Write<T> {
        final Body<T> body;
        final CompletableFuture<T> future = new CompletableFuture<>();
        /** Set by the writer thread, read on the completion thread after the executor's hand-over. */
        T result;
        Throwable failure;

        Write(Body<T> body) {
            this.body = body;
        }
    }

    /** How the journal is named in messages and logs, e.g. its file's path. */
    private final String name;
    private final Transactions transactions;
    private final BlockingQueue<Write<?>> writes = new LinkedBlockingQueue<>();
    private final ExecutorService completions = Executors.newSingleThreadExecutor(daemon("ferry-journal-ack"));
    private final Thread writerThread;
    /** Writer thread only: false when a failure may have left a transaction open; the next batch restores it first. */
    private boolean resting = true;
    /** Written by the writer thread only. */
    private volatile JournalHealth health = JournalHealth.OK;
    private volatile boolean closing;

    /**
     * Starts the writer thread. {@code transactions} must have begun its first transaction already: the
     * writer only ever commits, rolls back and begins the next.
     */
    public GroupCommitWriter(String name, Transactions transactions) {
        this.name = name;
        this.transactions = transactions;
        this.writerThread = new Thread(this::writeLoop, "ferry-journal-writer");
        this.writerThread.setDaemon(true);
        this.writerThread.start();
    }

    /** Queues {@code body} for the next batch; the future completes once the batch is committed, or fails. */
    public <T> CompletableFuture<T> submit(Body<T> body) {
        Write<T> write = new Write<>(body);
        if (closing) {
            write.future.completeExceptionally(closed());
            return write.future;
        }
        writes.add(write);
        if (closing && !writerThread.isAlive()) {
            failLeftovers();
        }
        return write.future;
    }

    /** Whether writes can commit now; see {@link Journal#health()}. */
    public JournalHealth health() {
        return health;
    }

    private void writeLoop() {
        List<Write<?>> batch = new ArrayList<>();
        try {
            while (!(closing && writes.isEmpty())) {
                Write<?> first = writes.poll(IDLE_CHECK_SECONDS, TimeUnit.SECONDS);
                if (first == null) {
                    checkStorage();
                    continue;
                }
                batch.add(first);
                writes.drainTo(batch, MAX_BATCH - 1);
                commit(batch);
                batch.clear();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            failLeftovers();
        }
    }

    /** A write that slipped in while the writer was stopping must fail, never wait forever. */
    private void failLeftovers() {
        List<Write<?>> left = new ArrayList<>();
        writes.drainTo(left);
        JournalException closed = closed();
        left.forEach(write -> write.future.completeExceptionally(closed));
    }

    private JournalException closed() {
        return new JournalException("journal " + name + " is closed", null);
    }

    /**
     * Runs the batch in one transaction. If a write fails, the transaction is rolled back and every
     * write of the batch is run again in a transaction of its own, so one bad write spoils no other;
     * the common case pays for no savepoints. A full disk spoils every write alike, so then the whole
     * batch fails at once. Nothing is acknowledged that went into storage no longer there.
     */
    private void commit(List<Write<?>> batch) {
        if (health.state() != JournalHealth.State.FILE_LOST) {
            Throwable failure = attempt(batch);
            if (failure != null && batch.size() > 1 && !transactions.isDiskFull(failure)) {
                batch.forEach(write -> write.failure = failureOf(attempt(List.of(write))));
            } else {
                Throwable answer = failureOf(failure);
                batch.forEach(write -> write.failure = answer);
            }
            checkStorage();
        }
        if (health.state() == JournalHealth.State.FILE_LOST) {
            JournalUnavailableException lost = new JournalUnavailableException(health.problem(), null);
            batch.forEach(write -> write.failure = lost);
        }
        List<Write<?>> done = List.copyOf(batch);
        completions.execute(() -> done.forEach(GroupCommitWriter::complete));
    }

    /** Runs {@code writes} in one transaction and commits it; on any failure rolls it all back and returns why. */
    private Throwable attempt(List<Write<?>> writes) {
        try {
            if (!resting) {
                restore();
            }
            long changesBefore = health.state() == JournalHealth.State.DISK_FULL ? transactions.changes() : 0;
            for (Write<?> write : writes) {
                run(write);
            }
            commitTransaction(changesBefore);
            return null;
        } catch (Exception e) {
            abandonTransaction();
            return e;
        }
    }

    /** Once the commit returns the writes are stored, so nothing after it may fail them. */
    private void commitTransaction(long changesBefore) throws Exception {
        transactions.commit();
        transactions.committed();
        try {
            // Only a commit that stored something shows there is space again: an empty one needs none.
            if (health.state() == JournalHealth.State.DISK_FULL && transactions.changes() != changesBefore) {
                health = JournalHealth.OK;
                log.info("journal writable again path={} (space was freed)", name);
            }
            transactions.begin();
        } catch (Exception e) {
            resting = false;
        }
    }

    /** Takes back what the failed transaction did, in storage and in memory. */
    private void abandonTransaction() {
        transactions.abandoned();
        try {
            restore();
        } catch (Exception e) {
            resting = false;
            log.warn("journal rollback failed path={} reason={} (retried before the next write)", name, e.getMessage());
        }
    }

    /** Rolls back whatever transaction is open, if any, and begins the next one. */
    private void restore() throws Exception {
        transactions.rollback();
        transactions.begin();
        resting = true;
    }

    /** What a write that failed with {@code failure} is answered: a full disk as unavailability, noted once per episode. */
    private Throwable failureOf(Throwable failure) {
        if (failure == null || !transactions.isDiskFull(failure)) {
            return failure;
        }
        if (health.state() == JournalHealth.State.WRITABLE) {
            health = new JournalHealth(JournalHealth.State.DISK_FULL,
                    "journal " + name + ": disk full; writes fail until space is freed");
            log.error("journal disk full path={}: writes fail, and nothing is acknowledged, until space is freed", name);
        }
        return new JournalUnavailableException("journal " + name
                + ": disk full, so nothing of this write was stored; writes resume once space is freed", failure);
    }

    /** Notes, once, that the storage is no longer what this journal writes. Writer thread only. */
    private void checkStorage() {
        if (health.state() == JournalHealth.State.FILE_LOST) {
            return;
        }
        String what = transactions.lostStorage();
        if (what != null) {
            health = new JournalHealth(JournalHealth.State.FILE_LOST, "journal " + name + " " + what
                    + " while Ferry was running: nothing is written or acknowledged any more; put the journal"
                    + " file back, then restart Ferry (a start without it begins an empty journal)");
            log.error("journal file lost path={} reason=\"{}\": every write fails until the file is back and Ferry restarts", name, what);
        }
    }

    private static <T> void run(Write<T> write) throws Exception {
        write.result = write.body.run();
    }

    private static <T> void complete(Write<T> write) {
        if (write.failure != null) {
            write.future.completeExceptionally(write.failure);
        } else {
            write.future.complete(write.result);
        }
    }

    /**
     * Commits what is queued, then stops the writer and the completion thread; what is submitted after
     * fails as closed. The engine's own resources are the caller's to close once this returns.
     */
    public void close() {
        closing = true;
        // Wakes the writer at once instead of at its next poll; committing a no-op costs nothing.
        writes.add(new Write<>(() -> null));
        try {
            writerThread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        completions.shutdown();
        try {
            completions.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failLeftovers();
    }

    private static ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
