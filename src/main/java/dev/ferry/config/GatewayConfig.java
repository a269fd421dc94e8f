package dev.ferry.config;

import java.util.List;

/**
 * Where the gateway listens and how it stops. {@code authToken} is never null ({@link Secret#NONE} when
 * unset). {@code allowedOrigins} are the browser origins besides the gateway's own whose pages may open
 * its WebSocket, each as {@code scheme://host[:port]} in lower case.
 */
public record GatewayConfig(String bind, int port, Secret authToken, long shutdownTimeoutMs, ReloadConfig reload,
                            List<String> allowedOrigins) {

    public GatewayConfig {
        authToken = authToken == null ? Secret.NONE : authToken;
        allowedOrigins = allowedOrigins == null ? List.of() : List.copyOf(allowedOrigins);
    }

    /** With no extra origins: only the gateway's own pages may open its WebSocket. */
    public GatewayConfig(String bind, int port, Secret authToken, long shutdownTimeoutMs, ReloadConfig reload) {
        this(bind, port, authToken, shutdownTimeoutMs, reload, List.of());
    }

    /** True for 127.0.0.0/8, ::1 and "localhost": addresses only this machine can reach. */
    public boolean isLoopbackBind() {
        return LoopbackAddresses.isLoopback(bind);
    }
}
