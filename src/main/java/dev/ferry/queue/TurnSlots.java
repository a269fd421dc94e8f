package dev.ferry.queue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code agent.maxConcurrent} turn slots across sessions: who waits for one (first come, first served),
 * how many are held, whether turns may start at all (not while the gateway drains for a reload), and the
 * sessions whose turns a reload parked, which keep their slots until {@link #unparkAll()}.
 * Not thread-safe: the scheduler holds it in a field guarded by its lock.
 */
final class TurnSlots {

    private final ArrayDeque<SessionQueue> ready = new ArrayDeque<>();
    private final List<SessionQueue> parked = new ArrayList<>();
    private int held;
    /** While true no turn starts (SPEC 3.3 draining); sessions still join the line. */
    private boolean paused;

    /** Puts a session that just became READY at the end of the line. */
    void line(SessionQueue session) {
        ready.addLast(session);
    }

    /** The next session in line that may take a slot now, or null; the caller then calls {@link #take()}. */
    SessionQueue nextReady(int maxConcurrent) {
        return paused || held >= maxConcurrent ? null : ready.pollFirst();
    }

    void take() {
        held++;
    }

    void release() {
        held--;
    }

    int held() {
        return held;
    }

    void pause() {
        paused = true;
    }

    boolean isPaused() {
        return paused;
    }

    /** A parked session keeps its slot; {@link #awaitsOnlyParked()} no longer counts it as running. */
    void park(SessionQueue session) {
        parked.add(session);
    }

    /** Clears the pause; returns the parked sessions, in the order they were parked, to run again. */
    List<SessionQueue> unparkAll() {
        paused = false;
        List<SessionQueue> again = new ArrayList<>(parked);
        parked.clear();
        return again;
    }

    /** Every held slot belongs to a parked turn: nothing is running. */
    boolean awaitsOnlyParked() {
        return held <= parked.size();
    }
}
