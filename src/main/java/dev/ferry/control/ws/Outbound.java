package dev.ferry.control.ws;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.concurrent.locks.ReentrantLock;

import org.eclipse.jetty.websocket.api.Callback;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.errorprone.annotations.concurrent.GuardedBy;

/**
 * One connection's bounded send buffer. Frames go out one at a time, each after the one before it was
 * written, so a client that stops reading holds back only its own frames; when it falls more than the
 * bound behind, the connection is closed with a reason instead of holding more memory. A close asked
 * for follows the frames queued before it, so a refusal or a shutdown event arrives before the close;
 * onClosed may run more than once, and must not mind.
 * Thread-safe: every caller (Jetty's threads, a call's completion, our drain thread) only enqueues;
 * all state is guarded by {@code lock}, and the wire is called outside it.
 */
final class Outbound {
    private static final Logger log = LoggerFactory.getLogger(Outbound.class);

    /** Where frames are written: the Jetty session, or a fake in a test. Both calls must not block. */
    interface Wire {
        void sendText(String text, Callback callback);

        /** A ping, outside the queue of frames: it shows the peer is there, not what it was sent. */
        void sendPing(Callback callback);

        void close(int code, String reason, Callback callback);

        /** Drops the connection without a close handshake. */
        void disconnect();
    }

    private record Close(int code, String reason) {}

    private final Wire wire;
    /** Sends the next frame from our thread, so a write completing inline never recurses. */
    private final Executor executor;
    private final int maxFrames;
    private final long maxChars;
    private final Runnable onClosed;
    /** Runs a task after the grace a client that stopped reading has to take its close frame. */
    private final Consumer<Runnable> afterGrace;
    private final ReentrantLock lock = new ReentrantLock();
    @GuardedBy("lock")
    private final ArrayDeque<String> queue = new ArrayDeque<>();
    @GuardedBy("lock")
    private long queuedChars;
    @GuardedBy("lock")
    private boolean writing;
    /** The close to send once the queue is empty; nothing is queued after it. */
    @GuardedBy("lock")
    private Close closing;
    @GuardedBy("lock")
    private boolean done;

    /** @param onClosed runs once, when the close was written or the wire failed */
    Outbound(Wire wire, Executor executor, Consumer<Runnable> afterGrace, int maxFrames, long maxChars, Runnable onClosed) {
        this.wire = wire;
        this.afterGrace = afterGrace;
        this.executor = executor;
        this.maxFrames = maxFrames;
        this.maxChars = maxChars;
        this.onClosed = onClosed;
    }

    /**
     * Queues a frame; dropped once a close was asked for. Overflow closes the connection (1008) with a
     * reason at once, ahead of the write the client is not taking, and drops it if the close cannot be
     * written within the grace either: a client that stopped reading would never read a close.
     */
    void send(String text) {
        boolean overflowed = false;
        lock.lock();
        try {
            if (closing != null || done) {
                return;
            }
            if (queue.size() >= maxFrames || queuedChars + text.length() > maxChars) {
                // The client stopped reading: what is queued will never be read in time, so it is dropped
                // and the close goes next (it still waits behind the one write in progress, if any).
                log.warn("ws client closed: it fell {} frames ({} chars) behind", queue.size(), queuedChars);
                queue.clear();
                queuedChars = 0;
                closing = new Close(1008, "send buffer overflow: the client stopped reading");
                done = true;
                overflowed = true;
            } else {
                queue.addLast(text);
                queuedChars += text.length();
            }
        } finally {
            lock.unlock();
        }
        if (overflowed) {
            wire.close(1008, "send buffer overflow: the client stopped reading",
                    Callback.from(onClosed, failure -> onClosed.run()));
            afterGrace.accept(wire::disconnect);
        } else {
            pump();
        }
    }

    /**
     * Queues a frame the client can do without (a streamed piece of a reply whose whole text follows),
     * unless the buffer is half full: a client falling behind loses these first, and is closed only when
     * what it cannot do without fills the rest. Answers whether it was queued.
     */
    boolean offer(String text) {
        lock.lock();
        try {
            if (closing != null || done || queue.size() >= maxFrames / 2 || queuedChars + text.length() > maxChars / 2) {
                return false;
            }
        } finally {
            lock.unlock();
        }
        send(text);
        return true;
    }

    /** Closes after the frames queued so far; later frames are dropped. The first close asked for wins. */
    void closeAfterQueued(int code, String reason) {
        lock.lock();
        try {
            if (closing != null || done) {
                return;
            }
            closing = new Close(code, reason);
        } finally {
            lock.unlock();
        }
        pump();
    }

    /** Sends a ping unless the connection is closing or gone. */
    void ping() {
        lock.lock();
        try {
            if (closing != null || done) {
                return;
            }
        } finally {
            lock.unlock();
        }
        wire.sendPing(Callback.from(() -> {}, this::failed));
    }

    /** Frames waiting to be written. */
    int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    private void pump() {
        String next;
        Close close = null;
        lock.lock();
        try {
            if (writing || done) {
                return;
            }
            next = queue.pollFirst();
            if (next != null) {
                queuedChars -= next.length();
            } else if (closing != null) {
                close = closing;
                done = true;
            } else {
                return;
            }
            writing = true;
        } finally {
            lock.unlock();
        }
        if (close != null) {
            wire.close(close.code(), close.reason(), Callback.from(onClosed, failure -> onClosed.run()));
        } else {
            wire.sendText(next, Callback.from(this::written, this::failed));
        }
    }

    private void written() {
        lock.lock();
        try {
            writing = false;
        } finally {
            lock.unlock();
        }
        executor.execute(this::pump);
    }

    /** The connection is gone: nothing more can be written. */
    private void failed(Throwable failure) {
        boolean first;
        lock.lock();
        try {
            first = !done;
            done = true;
            queue.clear();
            queuedChars = 0;
        } finally {
            lock.unlock();
        }
        if (first) {
            onClosed.run();
        }
    }
}
