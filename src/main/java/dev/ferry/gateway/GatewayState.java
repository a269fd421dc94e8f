package dev.ferry.gateway;

/** Where the gateway is in its life, as {@code status} and {@code /healthz} report it. */
public enum GatewayState {
    STARTING, RUNNING, DRAINING, STOPPING;

    public String wireName() {
        return name().toLowerCase();
    }
}
