package dev.ferry.time;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.function.BooleanSupplier;

/**
 * The one way to wait for a state with a time limit: on a {@link Condition}, with the limit judged on a
 * {@link Scheduler}'s clock. A timer on that scheduler signals the condition when the limit passes, so a
 * test's manual scheduler ends the wait by advancing time, and no test sleeps through a window.
 */
public final class DeadlineWait {

    private DeadlineWait() {}

    /**
     * Waits until {@code done} holds or {@code timeout} has passed on {@code scheduler}'s clock, and says
     * whether it holds. The caller holds {@code lock}, whose {@code condition} is signalled whenever what
     * {@code done} reads changes; {@code done} is evaluated under that lock.
     */
    public static boolean await(Scheduler scheduler, Lock lock, Condition condition, Duration timeout,
                                BooleanSupplier done) throws InterruptedException {
        if (done.getAsBoolean()) {
            return true;
        }
        long deadline = saturatedAdd(scheduler.nowMillis(), timeout.toMillis());
        AtomicBoolean expired = new AtomicBoolean();
        Scheduler.Cancellable timer = signalAfter(scheduler, timeout, lock, condition, expired);
        try {
            while (!done.getAsBoolean()) {
                long left = deadline - scheduler.nowMillis();
                if (expired.get() || left <= 0) {
                    return false;
                }
                // Also bounded in real time, so a scheduler that can no longer run timers (it is closing)
                // cannot leave the waiter hanging; on a manual clock this only rechecks.
                condition.await(left, TimeUnit.MILLISECONDS);
            }
            return true;
        } finally {
            timer.cancel();
        }
    }

    private static Scheduler.Cancellable signalAfter(Scheduler scheduler, Duration timeout, Lock lock,
                                                     Condition condition, AtomicBoolean expired) {
        try {
            return scheduler.schedule(timeout, () -> {
                expired.set(true);
                lock.lock();
                try {
                    condition.signalAll();
                } finally {
                    lock.unlock();
                }
            });
        } catch (RuntimeException closing) {
            // A scheduler that is shutting down takes no timers; the real-time bound below still ends the wait.
            return () -> {};
        }
    }

    /** Milliseconds left until {@code deadlineMillis} on {@code scheduler}'s clock, never negative. */
    public static long millisUntil(Scheduler scheduler, long deadlineMillis) {
        return Math.max(0, deadlineMillis - scheduler.nowMillis());
    }

    /** {@code at + plus}, saturating, so a limit of {@code Long.MAX_VALUE} means never rather than long ago. */
    public static long saturatedAdd(long at, long plus) {
        long sum = at + plus;
        return ((at ^ sum) & (plus ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }
}
