package dev.ferry.config;

import java.util.Objects;

/**
 * The whole validated configuration of one gateway generation. Immutable; every section is non-null.
 */
public record FerryConfig(GatewayConfig gateway, StateConfig state, JournalConfig journal, SessionConfig session,
                          AgentConfig agent, MessagesConfig messages, ChannelsConfig channels) {

    public FerryConfig {
        Objects.requireNonNull(gateway, "gateway");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(journal, "journal");
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(agent, "agent");
        Objects.requireNonNull(messages, "messages");
        Objects.requireNonNull(channels, "channels");
    }

    /** The built-in defaults of SPEC 3.4, as if the file were empty. */
    public static FerryConfig defaults() {
        return ConfigBinder.defaults();
    }
}
