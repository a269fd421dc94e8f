package dev.ferry.control.ws;

import java.util.List;
import java.util.Locale;

/**
 * Which browser pages may open the WebSocket (SPEC 3.5). A browser sends any site's page's
 * {@code Origin} with the upgrade and lets that page talk to a local gateway, so a foreign origin is
 * refused: only the gateway's own ({@code http://} this listener's host and port, for the loopback names
 * and the bind address) and the configured {@code gateway.allowedOrigins} pass. A request with no
 * {@code Origin} comes from a program, not a page, and passes. Stateless.
 */
public final class WsOrigins {

    private static final List<String> LOOPBACK_HOSTS = List.of("127.0.0.1", "localhost", "[::1]");

    private WsOrigins() {}

    /**
     * @param bind the listener's bind address as configured
     * @param port the port the request arrived on
     * @param allowed the configured extra origins, in the form a browser sends them
     */
    public static boolean allowed(String origin, String bind, int port, List<String> allowed) {
        if (origin == null) {
            return true;
        }
        String given = origin.trim().toLowerCase(Locale.ROOT);
        if (allowed.contains(given)) {
            return true;
        }
        String bindHost = bind.contains(":") && !bind.startsWith("[") ? "[" + bind + "]" : bind;
        for (String host : LOOPBACK_HOSTS) {
            if (isOwn(given, host, port)) {
                return true;
            }
        }
        return isOwn(given, bindHost.toLowerCase(Locale.ROOT), port);
    }

    /** A browser leaves out the default port, so on port 80 the bare host is ours too. */
    private static boolean isOwn(String origin, String host, int port) {
        String own = "http://" + host;
        return origin.equals(own + ":" + port) || (port == 80 && origin.equals(own));
    }
}
