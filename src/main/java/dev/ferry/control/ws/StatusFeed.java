package dev.ferry.control.ws;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.control.RpcMethods;
import dev.ferry.events.EventHub;
import dev.ferry.events.EventSubscription;
import dev.ferry.events.GatewayEvent;

/**
 * {@code status} events: after anything changes (a message queued, a turn started or ended, a reply
 * committed or delivered, a reload), the {@code status} method's answer goes to every client that asked
 * for it, at most once per {@link #AT_MOST_EVERY}, so a page's panel follows the gateway without
 * polling and a busy gateway pays for a few snapshots a second, not one per event. Text deltas change
 * nothing it shows. Thread-safe.
 */
final class StatusFeed implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatusFeed.class);

    static final Duration AT_MOST_EVERY = Duration.ofMillis(250);

    private final RpcMethods methods;
    /** Times the snapshots: the socket's thread, which never blocks. */
    private final ScheduledExecutorService executor;
    /**
     * Takes them: a snapshot reads the journal, which must not hold up the socket's sends. One thread, so
     * snapshots never overlap; it stays only while there is work.
     */
    private final ThreadPoolExecutor reader;
    private final Set<ControlClient> clients;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** Buffers nothing: its filter only notes that something changed, on the publisher's thread. */
    private final EventSubscription tap;

    StatusFeed(RpcMethods methods, EventHub hub, ScheduledExecutorService executor, Set<ControlClient> clients) {
        this.methods = methods;
        this.executor = executor;
        this.clients = clients;
        this.reader = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), task -> {
            Thread thread = new Thread(task, "ferry-ws-status");
            thread.setDaemon(true);
            return thread;
        }, new ThreadPoolExecutor.DiscardPolicy());
        reader.allowCoreThreadTimeOut(true);
        this.tap = hub.subscribe(1, event -> {
            if (!(event instanceof GatewayEvent.TextDelta)) {
                changed();
            }
            return false;
        }, () -> {});
    }

    private void changed() {
        if (scheduled.compareAndSet(false, true)) {
            executor.schedule(this::publish, AT_MOST_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void publish() {
        scheduled.set(false);
        if (clients.isEmpty()) {
            return;
        }
        CompletableFuture.supplyAsync(() -> methods.call("status", null), reader).thenCompose(call -> call)
                .whenComplete((payload, failure) -> {
                    if (failure != null) {
                        log.debug("status snapshot failed", failure);
                        return;
                    }
                    clients.forEach(client -> client.status(payload));
                });
    }

    @Override
    public void close() {
        tap.close();
        reader.shutdownNow();
    }
}
