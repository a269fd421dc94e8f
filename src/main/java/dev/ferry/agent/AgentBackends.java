package dev.ferry.agent;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import dev.ferry.agent.command.CommandBackend;
import dev.ferry.agent.openai.OpenAiBackend;
import dev.ferry.config.AgentConfig;

/**
 * The one table of agent backends this build has: start-up, every reload and {@code ferry config
 * validate} ask it, so a configuration that validates is one the gateway can start with. The
 * configuration's schema knows every backend SPEC names; this table knows which of them exist.
 * Immutable and thread-safe.
 */
public final class AgentBackends {


    /** Builds one backend from the agent settings; may fail with an {@link IllegalArgumentException} naming the setting. */
    @FunctionalInterface
    public interface Factory {
        AgentBackend create(AgentConfig config, BackendContext context);
    }

    /** The backends of this build. */
    public static final AgentBackends BUILT_IN = new AgentBackends(Map.of(
            "command", (config, context) -> new CommandBackend(config.command(), config.maxConcurrent(), context.scheduler()),
            "echo", (config, context) -> new EchoBackend(context.scheduler(), Duration.ofMillis(config.echo().delayMs())),
            "openai", OpenAiBackend::new));

    private final Map<String, Factory> factories;

    public AgentBackends(Map<String, Factory> factories) {
        this.factories = new TreeMap<>(factories);
    }

    public Set<String> names() {
        return factories.keySet();
    }

    /** Why {@code config} names a backend this build cannot make, worded as a configuration error; empty when it can. */
    public Optional<String> unavailable(AgentConfig config) {
        if (factories.containsKey(config.backend())) {
            return Optional.empty();
        }
        return Optional.of("agent.backend: \"" + config.backend() + "\" is not available in this build yet (available: "
                + String.join(", ", names()) + ")");
    }

    /** Builds the backend {@code config} names; fails, having built nothing, when {@link #unavailable} says why. */
    public AgentBackend create(AgentConfig config, BackendContext context) {
        Factory factory = factories.get(config.backend());
        if (factory == null) {
            throw new IllegalArgumentException(unavailable(config).orElseThrow());
        }
        return factory.create(config, context);
    }
}
