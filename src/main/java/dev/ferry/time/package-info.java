/**
 * Time, both kinds, through one seam: {@link dev.ferry.time.Scheduler} gives monotonic milliseconds and
 * timers, {@link dev.ferry.time.WallClock} gives the date for what is stored or shown, and
 * {@link dev.ferry.time.DeadlineWait} is the one way to wait for a state with a time limit. No code
 * outside this package reads {@code System.currentTimeMillis}, {@code System.nanoTime} or
 * {@code Instant.now}. Production uses {@link dev.ferry.time.SystemScheduler}; tests drive a manual
 * scheduler, so no test waits for a timer to fire or sleeps through a window.
 */
package dev.ferry.time;
