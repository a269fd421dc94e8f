package dev.ferry.queue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.time.DeadlineWait;
import dev.ferry.time.Scheduler;

/**
 * The {@code agent.maxConcurrent} turn slots across sessions: who waits for one (first come, first served),
 * how many are held, whether turns may start at all (not while the gateway drains for a reload, SPEC 3.3),
 * and the sessions whose turns a reload parked, which keep their slots until {@link #unparkAll()}.
 * Thread-safe; all state is guarded by {@code lock}. The scheduler calls in while holding its own lock;
 * this class never calls out, so the two locks are always taken in that order.
 */
final class TurnSlots {

    private final Scheduler scheduler;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a slot is released or its turn parked, for {@link #awaitOnlyParked}. */
    private final Condition changed = lock.newCondition();
    @GuardedBy("lock")
    private final ArrayDeque<SessionQueue> ready = new ArrayDeque<>();
    @GuardedBy("lock")
    private final List<SessionQueue> parked = new ArrayList<>();
    @GuardedBy("lock")
    private int held;
    /** While true no turn starts; sessions still join the line. */
    @GuardedBy("lock")
    private boolean paused;

    TurnSlots(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    /** Puts a session that just became READY at the end of the line. */
    void line(SessionQueue session) {
        lock.lock();
        try {
            ready.addLast(session);
        } finally {
            lock.unlock();
        }
    }

    /** The next session in line, with a slot taken for it, when one may start now; else null. */
    SessionQueue takeNext(int maxConcurrent) {
        lock.lock();
        try {
            if (paused || held >= maxConcurrent || ready.isEmpty()) {
                return null;
            }
            held++;
            return ready.pollFirst();
        } finally {
            lock.unlock();
        }
    }

    void release() {
        lock.lock();
        try {
            held--;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    int held() {
        lock.lock();
        try {
            return held;
        } finally {
            lock.unlock();
        }
    }

    void pause() {
        lock.lock();
        try {
            paused = true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Parks a session whose turn a reload aborted, if turns are still paused; it keeps its slot, and
     * {@link #awaitOnlyParked} no longer counts it as running. False when turns resumed meanwhile: the
     * turn then runs again at once.
     */
    boolean parkIfPaused(SessionQueue session) {
        lock.lock();
        try {
            if (paused) {
                parked.add(session);
                changed.signalAll();
            }
            return paused;
        } finally {
            lock.unlock();
        }
    }

    /** Clears the pause; returns the parked sessions, in the order they were parked, to run again. */
    List<SessionQueue> unparkAll() {
        lock.lock();
        try {
            paused = false;
            List<SessionQueue> again = new ArrayList<>(parked);
            parked.clear();
            return again;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until every held slot belongs to a parked turn, or the timeout on the scheduler's clock. */
    boolean awaitOnlyParked(Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            return DeadlineWait.await(scheduler, lock, changed, timeout, this::onlyParked);
        } finally {
            lock.unlock();
        }
    }

    /** Locks, reentrantly: the deadline wait asks from inside its wait loop. */
    private boolean onlyParked() {
        lock.lock();
        try {
            return held <= parked.size();
        } finally {
            lock.unlock();
        }
    }
}
