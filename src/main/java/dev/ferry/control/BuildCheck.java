package dev.ferry.control;

import java.util.ArrayList;
import java.util.List;

import dev.ferry.agent.AgentBackends;
import dev.ferry.config.ConfigException;
import dev.ferry.config.FerryConfig;

/**
 * What a configuration that parses must still pass before anything is built from it: every part it
 * names exists in this build. Start-up, a reload, {@code config.patch}/{@code config.apply} and {@code
 * ferry config validate} all ask this one check, so a file that validates is a file that starts.
 * Immutable and thread-safe.
 */
public final class BuildCheck {

    private final AgentBackends backends;

    public BuildCheck(AgentBackends backends) {
        this.backends = backends;
    }

    /** Fails with every problem, each as "path: reason", or returns {@code config} unchanged. */
    public FerryConfig check(FerryConfig config) throws ConfigException {
        List<String> errors = new ArrayList<>();
        backends.unavailable(config.agent()).ifPresent(errors::add);
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
        return config;
    }
}
