package dev.ferry.time;

import java.time.Duration;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.concurrent.locks.ReentrantLock;

import com.google.errorprone.annotations.concurrent.GuardedBy;

/**
 * A scheduler for tests: time stands still until the test calls {@link #advance} or {@link #runDue}, and
 * due tasks run on the calling thread in deadline order (scheduling order for equal deadlines), so a
 * test proves timing behaviour without sleeping. A task scheduled while time advances runs in the same
 * call if its deadline falls within it; a task that throws stops the call and the exception reaches the
 * test. Thread-safe; the clock and the task queue are guarded by {@code lock}, tasks run outside it.
 */
public final class ManualScheduler implements Scheduler {

    private final ReentrantLock lock = new ReentrantLock();
    @GuardedBy("lock")
    private final PriorityQueue<Task> tasks = new PriorityQueue<>(
            Comparator.comparingLong(Task::dueMillis).thenComparingLong(Task::order));
    @GuardedBy("lock")
    private long nowMillis;
    @GuardedBy("lock")
    private long scheduledCount;

    private record Task(long dueMillis, long order, Runnable body) {}

    @Override
    public long nowMillis() {
        lock.lock();
        try {
            return nowMillis;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Cancellable schedule(Duration delay, Runnable task) {
        lock.lock();
        try {
            Task scheduled = new Task(nowMillis + Math.max(0, delay.toMillis()), scheduledCount++, task);
            tasks.add(scheduled);
            return () -> cancel(scheduled);
        } finally {
            lock.unlock();
        }
    }

    /** Moves time forward by {@code duration}, running every task that falls due on the way, in deadline order. */
    public void advance(Duration duration) {
        if (duration.isNegative()) {
            throw new IllegalArgumentException("time only moves forward, got " + duration);
        }
        long target;
        lock.lock();
        try {
            target = nowMillis + duration.toMillis();
        } finally {
            lock.unlock();
        }
        runUntil(target);
    }

    /** Runs the tasks due now, including those they schedule with no delay, without moving time. */
    public void runDue() {
        runUntil(nowMillis());
    }

    /** Tasks scheduled so far, whether run, cancelled or still pending. */
    public long scheduledCount() {
        lock.lock();
        try {
            return scheduledCount;
        } finally {
            lock.unlock();
        }
    }

    /** Tasks scheduled and neither run nor cancelled yet. */
    public int pendingTasks() {
        lock.lock();
        try {
            return tasks.size();
        } finally {
            lock.unlock();
        }
    }

    private void runUntil(long targetMillis) {
        while (true) {
            Task next;
            lock.lock();
            try {
                next = tasks.peek();
                if (next == null || next.dueMillis() > targetMillis) {
                    nowMillis = Math.max(nowMillis, targetMillis);
                    return;
                }
                tasks.poll();
                // The task sees the time it was due, as it would on a real clock.
                nowMillis = Math.max(nowMillis, next.dueMillis());
            } finally {
                lock.unlock();
            }
            next.body().run();
        }
    }

    private void cancel(Task task) {
        lock.lock();
        try {
            tasks.remove(task);
        } finally {
            lock.unlock();
        }
    }
}
