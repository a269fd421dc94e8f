package dev.ferry.channel;

import java.util.Optional;

/** Finds the channel endpoint served at a path; what the HTTP layer asks on every request. Thread-safe. */
@FunctionalInterface
public interface EndpointLookup {

    /** Serves no channel path. */
    EndpointLookup NONE = path -> Optional.empty();

    /**
     * The endpoint at {@code path} (without a trailing slash), present for a registered channel's path
     * even while that channel is disabled; empty when no channel serves there.
     */
    Optional<Mounted> endpointAt(String path);

    /** A channel's endpoint and whether its channel takes messages now. */
    record Mounted(String channel, ChannelEndpoint endpoint, boolean enabled) {}
}
