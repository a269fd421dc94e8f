package dev.ferry.channel;

import java.util.Map;
import java.util.Optional;

/**
 * The files a channel serves to a browser by {@code GET} (the web chat page), looked up by the request's
 * path. A channel serves only the paths it names, and the HTTP layer serves what it answers as it is.
 * Implementations are thread-safe.
 */
@FunctionalInterface
public interface ChannelPages {

    /** The file at {@code path} (as requested, from its leading slash), or empty when it is not one of ours. */
    Optional<Page> at(String path);

    /** One file, ready to serve, with the response headers it needs. */
    record Page(String contentType, byte[] bytes, Map<String, String> headers) {
        public Page {
            headers = Map.copyOf(headers);
        }
    }
}
