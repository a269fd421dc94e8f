package dev.ferry.events;

/**
 * Where stages publish what they do. Publishing never blocks and never fails the publisher: a slow or
 * absent reader costs the publisher nothing. Thread-safe.
 */
@FunctionalInterface
public interface GatewayEvents {

    /** Publishes nothing: for a stage built without a hub, so the hot path never asks. */
    GatewayEvents NONE = event -> {};

    void publish(GatewayEvent event);
}
