package dev.ferry.events;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's one event stream: every published event goes to each subscriber whose filter takes it,
 * into that subscriber's own bounded buffer. A subscriber that falls behind loses its own oldest text
 * deltas (and is closed if even that is not enough); it never slows a publisher or another subscriber.
 * Thread-safe: subscribers are a copy-on-write list, so publishing takes no lock of the hub's.
 */
public final class EventHub implements GatewayEvents {
    private static final Logger log = LoggerFactory.getLogger(EventHub.class);

    private final List<EventSubscription> subscribers = new CopyOnWriteArrayList<>();

    @Override
    public void publish(GatewayEvent event) {
        for (EventSubscription subscriber : subscribers) {
            try {
                subscriber.offer(event);
            } catch (RuntimeException e) {
                // A subscriber's own filter or callback failed: it loses its subscription, the publisher nothing.
                log.warn("event subscriber failed and is closed event={} reason={}", event.getClass().getSimpleName(),
                        e.toString());
                try {
                    subscriber.closeWith("failed: " + e);
                } catch (RuntimeException again) {
                    // Its callback failed once more; it is unsubscribed already.
                }
            }
        }
    }

    /**
     * Subscribes to the events {@code filter} takes, buffering at most {@code capacity} of them.
     * {@code onReady} runs on the publisher's thread when the buffer turns non-empty or the subscription
     * closes; it must not block (hand the reading to a thread of your own).
     */
    public EventSubscription subscribe(int capacity, Predicate<GatewayEvent> filter, Runnable onReady) {
        EventSubscription subscription = new EventSubscription(capacity, filter, onReady, subscribers::remove);
        subscribers.add(subscription);
        return subscription;
    }

    /** Subscribes to everything, with no ready callback: the reader polls or takes. */
    public EventSubscription subscribe(int capacity) {
        return subscribe(capacity, event -> true, () -> {});
    }

    public int subscriberCount() {
        return subscribers.size();
    }

    /** Closes every subscription with {@code reason}, after what each already holds. */
    public void closeAll(String reason) {
        subscribers.forEach(subscription -> subscription.closeWith(reason));
    }
}
