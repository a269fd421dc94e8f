package dev.ferry.config;

/** Where the gateway listens and how it stops. {@code authToken} is never null ({@link Secret#NONE} when unset). */
public record GatewayConfig(String bind, int port, Secret authToken, long shutdownTimeoutMs, ReloadConfig reload) {

    public GatewayConfig {
        authToken = authToken == null ? Secret.NONE : authToken;
    }

    /** True for 127.0.0.0/8, ::1 and "localhost": addresses only this machine can reach. */
    public boolean isLoopbackBind() {
        return LoopbackAddresses.isLoopback(bind);
    }
}
