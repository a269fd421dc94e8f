package dev.ferry.debounce;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dev.ferry.time.DeadlineWait;
import dev.ferry.time.Scheduler;

/**
 * Every live inbound debouncer of one gateway. A debouncer joins when it is created and leaves when it
 * is closed, so a global flush reaches exactly the debouncers that can still hold messages.
 * Thread-safe: membership is a copy-on-write list; waiting for hand-offs uses {@code progress}.
 */
public final class DebouncerRegistry {

    /** A flush that keeps producing new buffered work stops after this many passes. */
    static final int MAX_PASSES = 100;

    private final List<InboundDebouncer> debouncers = new CopyOnWriteArrayList<>();
    /** Judges the flush's time limit, so a manual clock in tests ends it. */
    private final Scheduler clock;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled whenever a debouncer's lane of batches empties. */
    private final Condition progress = lock.newCondition();

    public DebouncerRegistry(Scheduler clock) {
        this.clock = clock;
    }

    void register(InboundDebouncer debouncer) {
        debouncers.add(debouncer);
    }

    void deregister(InboundDebouncer debouncer) {
        debouncers.remove(debouncer);
    }

    public int size() {
        return debouncers.size();
    }

    /** Keys currently buffered across all debouncers. */
    public int bufferedKeys() {
        return debouncers.stream().mapToInt(InboundDebouncer::bufferedKeys).sum();
    }

    /** Buffered keys plus flushed batches not yet taken by the next stage. */
    public int outstanding() {
        return debouncers.stream().mapToInt(d -> d.bufferedKeys() + d.undeliveredBatches()).sum();
    }

    /**
     * Flushes every registered debouncer now, again while flushing produced new buffered work (at most
     * {@value #MAX_PASSES} passes), and waits on a signal for the flushed batches to be handed on, all
     * within {@code timeout}.
     */
    public FlushReport flushAllInboundDebouncers(Duration timeout) throws InterruptedException {
        long deadline = DeadlineWait.saturatedAdd(clock.nowMillis(), timeout.toMillis());
        int flushed = 0;
        int passes = 0;
        while (clock.nowMillis() < deadline) {
            if (bufferedKeys() > 0 && passes < MAX_PASSES) {
                passes++;
                for (InboundDebouncer debouncer : debouncers) {
                    flushed += debouncer.flushAll();
                }
                continue;
            }
            if (outstanding() == 0 || bufferedKeys() > 0) {
                break;
            }
            awaitProgress(deadline);
        }
        int remaining = outstanding();
        return new FlushReport(remaining == 0, flushed, remaining);
    }

    /** Waits until every batch is handed on or something new is buffered, or the deadline, on the injected clock. */
    private void awaitProgress(long deadline) throws InterruptedException {
        lock.lock();
        try {
            // Checked under the lock that signalProgress takes, so a hand-off cannot slip between check and wait.
            DeadlineWait.await(clock, lock, progress, Duration.ofMillis(DeadlineWait.millisUntil(clock, deadline)),
                    () -> outstanding() == 0 || bufferedKeys() > 0);
        } finally {
            lock.unlock();
        }
    }

    void signalProgress() {
        lock.lock();
        try {
            progress.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
