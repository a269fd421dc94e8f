package dev.ferry.events;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;

import com.google.errorprone.annotations.concurrent.GuardedBy;

/**
 * One subscriber's view of the {@link EventHub}: a bounded buffer the hub fills and the subscriber
 * drains, in publication order. When the buffer is full, the oldest text delta in it is dropped and
 * counted; the reader then sees one {@link GatewayEvent.EventsLost} before the events after the gap.
 * When nothing can be dropped (every buffered event is one a reader must not lose) the subscription
 * closes with a reason, and the reader learns it from {@link #closeReason()}. Thread-safe; all state is
 * guarded by {@code lock}, and the ready callback runs outside it.
 */
public final class EventSubscription implements AutoCloseable {

    private final int capacity;
    private final Predicate<GatewayEvent> filter;
    private final Runnable onReady;
    private final Consumer<EventSubscription> unsubscribe;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    @GuardedBy("lock")
    private final ArrayDeque<GatewayEvent> buffer = new ArrayDeque<>();
    /** Deltas dropped since the reader last saw an {@code EventsLost}. */
    @GuardedBy("lock")
    private long lostDeltas;
    @GuardedBy("lock")
    private long totalLostDeltas;
    /** Null while open. */
    @GuardedBy("lock")
    private String closeReason;

    EventSubscription(int capacity, Predicate<GatewayEvent> filter, Runnable onReady,
                      Consumer<EventSubscription> unsubscribe) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
        this.filter = filter;
        this.onReady = onReady;
        this.unsubscribe = unsubscribe;
    }

    /** Called by the hub on the publisher's thread; never blocks beyond this buffer's own short lock. */
    void offer(GatewayEvent event) {
        if (!filter.test(event)) {
            return;
        }
        boolean wake;
        boolean overflowed = false;
        lock.lock();
        try {
            if (closeReason != null) {
                return;
            }
            wake = buffer.isEmpty() && lostDeltas == 0;
            if (buffer.size() >= capacity && !dropOldestDelta()) {
                if (event instanceof GatewayEvent.TextDelta) {
                    lostDeltas++;
                    totalLostDeltas++;
                    return;
                }
                overflowed = true;
                closeReason = "overflow: the subscriber fell " + capacity + " events behind";
                arrived.signalAll();
            } else {
                buffer.addLast(event);
                arrived.signalAll();
            }
        } finally {
            lock.unlock();
        }
        if (overflowed) {
            unsubscribe.accept(this);
            onReady.run();
        } else if (wake) {
            onReady.run();
        }
    }

    @GuardedBy("lock")
    private boolean dropOldestDelta() {
        Iterator<GatewayEvent> events = buffer.iterator();
        while (events.hasNext()) {
            if (events.next() instanceof GatewayEvent.TextDelta) {
                events.remove();
                lostDeltas++;
                totalLostDeltas++;
                return true;
            }
        }
        return false;
    }

    /** The next event, or null when none is buffered; a gap in the deltas comes first as {@code EventsLost}. */
    public GatewayEvent poll() {
        lock.lock();
        try {
            return next();
        } finally {
            lock.unlock();
        }
    }

    /** Waits up to {@code timeout} for the next event; null when none came or the subscription closed. */
    public GatewayEvent take(Duration timeout) throws InterruptedException {
        long leftNanos = timeout.toNanos();
        lock.lock();
        try {
            while (buffer.isEmpty() && lostDeltas == 0 && closeReason == null && leftNanos > 0) {
                leftNanos = arrived.awaitNanos(leftNanos);
            }
            return next();
        } finally {
            lock.unlock();
        }
    }

    /** Everything buffered now, in order, with a gap marked as {@code EventsLost}. */
    public List<GatewayEvent> drain() {
        lock.lock();
        try {
            List<GatewayEvent> events = new ArrayList<>(buffer.size() + 1);
            for (GatewayEvent event = next(); event != null; event = next()) {
                events.add(event);
            }
            return events;
        } finally {
            lock.unlock();
        }
    }

    @GuardedBy("lock")
    private GatewayEvent next() {
        if (lostDeltas > 0) {
            long lost = lostDeltas;
            lostDeltas = 0;
            return new GatewayEvent.EventsLost(lost);
        }
        return buffer.pollFirst();
    }

    /** Why the subscription closed (overflow, the gateway stopping, the reader closing it), or null while open. */
    public String closeReason() {
        lock.lock();
        try {
            return closeReason;
        } finally {
            lock.unlock();
        }
    }

    /** Text deltas dropped from this buffer since it was made. */
    public long lostDeltas() {
        lock.lock();
        try {
            return totalLostDeltas;
        } finally {
            lock.unlock();
        }
    }

    public int buffered() {
        lock.lock();
        try {
            return buffer.size();
        } finally {
            lock.unlock();
        }
    }

    /** Stops receiving; what is buffered can still be read. */
    @Override
    public void close() {
        closeWith("closed by the subscriber");
    }

    void closeWith(String reason) {
        lock.lock();
        try {
            if (closeReason == null) {
                closeReason = reason;
            }
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        unsubscribe.accept(this);
        onReady.run();
    }
}
