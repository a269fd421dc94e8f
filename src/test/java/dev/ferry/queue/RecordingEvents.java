package dev.ferry.queue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

import dev.ferry.events.GatewayEvent;
import dev.ferry.events.GatewayEvents;

/**
 * A {@link GatewayEvents} that keeps every event in publication order, each beside a probe read at the
 * moment it was published (for example, how many replies a transport had been handed by then).
 * Thread-safe; guarded by {@code this}.
 */
final class RecordingEvents implements GatewayEvents {

    record Published(GatewayEvent event, int probe) {}

    private final IntSupplier probe;
    private final List<Published> published = new ArrayList<>();

    RecordingEvents(IntSupplier probe) {
        this.probe = probe;
    }

    @Override
    public synchronized void publish(GatewayEvent event) {
        published.add(new Published(event, probe.getAsInt()));
    }

    synchronized List<GatewayEvent> all() {
        return published.stream().map(Published::event).toList();
    }

    synchronized List<Published> published() {
        return List.copyOf(published);
    }

    /** The events of one type, in order. */
    synchronized <T extends GatewayEvent> List<T> of(Class<T> type) {
        return published.stream().map(Published::event).filter(type::isInstance).map(type::cast).toList();
    }
}
