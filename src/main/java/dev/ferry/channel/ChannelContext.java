package dev.ferry.channel;

import java.net.http.HttpClient;
import java.util.function.Function;
import java.util.function.Supplier;

import dev.ferry.events.GatewayEvents;
import dev.ferry.intake.Intake;
import dev.ferry.time.Scheduler;
import dev.ferry.time.WallClock;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * What every channel of one gateway shares: the one door into the pipeline, time, the HTTP client, the
 * event stream and the metrics.
 *
 * @param intake where a channel hands each message it receives; it answers once the journal committed it
 * @param scheduler timers and the monotonic clock; a channel never sleeps
 * @param wallClock the date a message is stamped with
 * @param httpClient the gateway's one HTTP client, built on first {@code get()}: setting one up costs
 *                   start-up time that a gateway whose channels send nothing never spends
 * @param events where a channel publishes what it does; {@link GatewayEvents#NONE} when nobody listens
 * @param metrics the gateway's meter registry
 * @param environment the process environment, where a channel reads a token named by its configuration
 */
public record ChannelContext(Intake intake, Scheduler scheduler, WallClock wallClock, Supplier<HttpClient> httpClient,
                             GatewayEvents events, MeterRegistry metrics, Function<String, String> environment) {}
