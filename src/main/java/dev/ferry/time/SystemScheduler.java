package dev.ferry.time;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real clock: {@link System#nanoTime()} and one daemon timer thread. Tasks are expected to hand
 * real work to an executor of their own, so a slow task never delays another's timer.
 */
public final class SystemScheduler implements Scheduler, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SystemScheduler.class);

    private final ScheduledExecutorService timer;

    public SystemScheduler(String threadName) {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, threadName);
            thread.setDaemon(true);
            return thread;
        });
        // Cancelled debounce and retry timers would otherwise pile up until their original deadline.
        executor.setRemoveOnCancelPolicy(true);
        this.timer = Executors.unconfigurableScheduledExecutorService(executor);
    }

    @Override
    public long nowMillis() {
        return TimeUnit.NANOSECONDS.toMillis(MonotonicClock.SYSTEM.nanos());
    }

    @Override
    public Cancellable schedule(Duration delay, Runnable task) {
        var future = timer.schedule(() -> runLogged(task), Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }

    private static void runLogged(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            log.error("scheduled task failed", e);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
