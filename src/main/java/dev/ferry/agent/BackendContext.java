package dev.ferry.agent;

import java.util.function.Function;

import dev.ferry.time.Scheduler;
import dev.ferry.time.WallClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * What a backend is built with besides its own settings: the gateway's timers, the wall clock (for a
 * {@code Retry-After} date), the process environment (where an API key is read from) and the metrics
 * registry. Its own type, not a part of {@link AgentBackends}, so that a backend never imports the table
 * that lists it.
 */
public record BackendContext(Scheduler scheduler, WallClock wallClock, Function<String, String> environment,
                             MeterRegistry metrics) {

    /** For a backend that needs only timers: the system's clock and environment, and metrics kept nowhere. */
    public BackendContext(Scheduler scheduler) {
        this(scheduler, WallClock.SYSTEM, System::getenv, new SimpleMeterRegistry());
    }
}
