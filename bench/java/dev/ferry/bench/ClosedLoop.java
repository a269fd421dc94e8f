package dev.ferry.bench;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmarks' closed loop: each session keeps one message in flight, sending its next when the reply
 * to its last arrives, for a given time; the figure is replies per second. The reply sink runs what the
 * loop puts in {@code onReply} under the message's id.
 */
final class ClosedLoop {

    /** Sends message {@code id} in {@code conversation}. */
    interface Send {
        void send(String conversation, String id);
    }

    private ClosedLoop() {}

    /**
     * Runs {@code sessions} sessions named {@code tag-N} for {@code seconds}, and answers replies per second;
     * fails when the last replies take more than {@code graceSeconds} after that to come.
     */
    static double repliesPerSecond(int sessions, int seconds, String tag, Map<String, Runnable> onReply, Send send,
                                   long graceSeconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        AtomicLong replies = new AtomicLong();
        CountDownLatch done = new CountDownLatch(sessions);
        long start = System.nanoTime();
        for (int s = 0; s < sessions; s++) {
            String conversation = tag + "-" + s;
            Runnable[] next = new Runnable[1];
            AtomicLong n = new AtomicLong();
            next[0] = () -> {
                if (System.nanoTime() >= end) {
                    done.countDown();
                    return;
                }
                String id = conversation + "-" + n.incrementAndGet();
                onReply.put(id, () -> {
                    replies.incrementAndGet();
                    next[0].run();
                });
                send.send(conversation, id);
            };
            next[0].run();
        }
        if (!done.await(seconds + graceSeconds, TimeUnit.SECONDS)) {
            throw new IllegalStateException("replies stopped coming: " + replies.get() + " so far");
        }
        return replies.get() / ((System.nanoTime() - start) / 1e9);
    }
}
