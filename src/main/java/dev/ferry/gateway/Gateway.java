package dev.ferry.gateway;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.AgentBackends;
import dev.ferry.channel.Channels;
import dev.ferry.config.ConfigException;
import dev.ferry.config.ConfigLoader;
import dev.ferry.config.FerryConfig;
import dev.ferry.config.GatewayConfig;
import dev.ferry.config.LoadedConfig;
import dev.ferry.config.Secret;
import dev.ferry.control.BuildCheck;
import dev.ferry.control.ConfigRpc;
import dev.ferry.control.ChatRpc;
import dev.ferry.control.ControlMethods;
import dev.ferry.control.LiveState;
import dev.ferry.control.ReloadOutcome;
import dev.ferry.control.RpcMethods;
import dev.ferry.control.StatusRpc;
import dev.ferry.control.ws.ControlSocket;
import dev.ferry.debounce.FlushReport;
import dev.ferry.events.EventHub;
import dev.ferry.events.GatewayEvent;
import dev.ferry.queue.DrainReport;
import dev.ferry.time.DeadlineWait;

/**
 * One running Ferry's life cycle: start, reload and stop (SPEC 3.3), around the object graph that
 * {@link Stages} builds and the HTTP listener. Start-up replays what the journal holds unfinished before
 * the listener opens, so replayed messages keep their place ahead of new ones. A reload is prepared, then
 * committed whole or discarded whole; it rebuilds only what its configuration changed, and the listener
 * stays bound unless its address changed. Thread-safe: the parts a reload replaces are volatile and only
 * the reload thread writes them.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);
    private static final Duration PRUNE_EVERY = Duration.ofHours(1);
    /** How long a stop waits for WebSocket clients' close frames to be written. */
    private static final Duration WS_CLOSE_GRACE = Duration.ofSeconds(2);

    private final BuildCheck buildCheck;
    private final Stages stages;
    private final ReloadSequencer sequencer;
    private final StatusRpc statusRpc;
    private final RpcMethods rpcMethods;
    private final ControlSocket controlSocket;
    private final PidFile pidFile;
    private final AtomicBoolean closed = new AtomicBoolean();

    private volatile LoadedConfig loaded;
    private volatile HttpApi http;
    private volatile GatewayState state = GatewayState.STARTING;

    /** Refuses what this build lacks before anything is opened; a later failure closes what was opened. */
    private Gateway(LoadedConfig loaded, AgentBackends backends) throws ConfigException {
        this.loaded = loaded;
        this.buildCheck = new BuildCheck(backends);
        FerryConfig config = buildCheck.check(loaded.config());
        this.pidFile = new PidFile(config.state().dir());
        this.stages = new Stages(config, backends);
        try {
            this.sequencer = new ReloadSequencer(new Steps(), this::reloadSource, config.gateway(), stages.metrics,
                    stages.scheduler);
            ConfigRpc configRpc = new ConfigRpc(() -> this.loaded, sequencer::requestReload, this::url, buildCheck);
            this.statusRpc = new StatusRpc(new LiveState(this::generation, () -> state.wireName(),
                    () -> stages.backend().name(), stages.debouncerRegistry::bufferedKeys, stages.channels::statuses),
                    stages.journal, stages.turns);
            ChatRpc chatRpc = new ChatRpc(stages.intake, stages.journal, () -> this.loaded.config(), stages.wallClock);
            this.rpcMethods = ControlMethods.create(statusRpc, chatRpc, stages.journal, stages.turns, stages.outbox,
                    configRpc, this::reload);
            this.controlSocket = new ControlSocket(rpcMethods, this::gatewayToken, this::generation, version(), stages.events);
            this.http = listener(config.gateway());
            stages.replay();
            schedulePrune(Duration.ofMinutes(1));
        } catch (RuntimeException e) {
            stages.close();
            throw e;
        }
    }

    /**
     * Builds the gateway, replays the journal and opens the listener; the returned gateway is serving. A
     * configuration that names what this build lacks is refused with a {@link ConfigException}, having
     * opened nothing.
     */
    public static Gateway start(LoadedConfig loaded) throws ConfigException {
        return start(loaded, AgentBackends.BUILT_IN);
    }

    /** As {@link #start(LoadedConfig)}, with the backends of {@code backends}. */
    static Gateway start(LoadedConfig loaded, AgentBackends backends) throws ConfigException {
        var gateway = new Gateway(loaded, backends);
        try {
            gateway.http.start();
            gateway.http.serve();
            gateway.pidFile.write();
        } catch (RuntimeException e) {
            gateway.close();
            throw e;
        }
        gateway.state = GatewayState.RUNNING;
        log.info("Ferry ready url={} config={} gen={} agent={} startupMs={}", gateway.url(), describe(loaded),
                gateway.generation(), gateway.stages.backend().name(), ManagementFactory.getRuntimeMXBean().getUptime());
        return gateway;
    }

    public int port() {
        return http.port();
    }

    public URI url() {
        return URI.create("http://" + hostForUrl(loaded.config().gateway().bind()) + ":" + port());
    }

    public GatewayState state() {
        return state;
    }

    public long generation() {
        return sequencer.generation();
    }

    /** Open WebSocket control connections. */
    int webSocketConnections() {
        return controlSocket.connections();
    }

    /** The gateway's event stream: what turns, replies, queues and reloads do, as they do it. */
    public EventHub events() {
        return stages.events;
    }

    /** Reloads the configuration (SPEC 3.3); requests made while one runs coalesce into one more. */
    public CompletableFuture<ReloadOutcome> reload(String trigger) {
        return sequencer.requestReload(trigger);
    }

    /** Flushes every inbound debouncer; the first step of a reload or a stop (SPEC 3.3). */
    public FlushReport flushAllInboundDebouncers(Duration timeout) throws InterruptedException {
        return stages.debouncerRegistry.flushAllInboundDebouncers(timeout);
    }

    private Secret gatewayToken() {
        return loaded.config().gateway().authToken();
    }

    /** Prunes settled rows past {@code journal.retentionDays} now and then, on the journal's writer, never blocking intake. */
    private void schedulePrune(Duration after) {
        stages.scheduler.schedule(after, () -> {
            if (closed.get()) {
                return;
            }
            int retentionDays = loaded.config().journal().retentionDays();
            long cutoff = stages.wallClock.epochMillis() - Duration.ofDays(retentionDays).toMillis();
            stages.journal.prune(cutoff, loaded.config().agent().historyTurns()).whenComplete((removed, error) -> {
                if (error != null) {
                    log.warn("journal prune failed reason={}", error.toString());
                } else if (removed > 0) {
                    log.info("journal pruned rows={} retentionDays={}", removed, retentionDays);
                }
            });
            schedulePrune(PRUNE_EVERY);
        });
    }

    /**
     * What a reload reads: the file the gateway started from, or the same inline configuration again. A
     * file that is missing, empty or not a regular file is refused, never read as the defaults; so is one
     * that names what this build lacks.
     */
    private LoadedConfig reloadSource() throws Exception {
        LoadedConfig current = loaded;
        LoadedConfig next = current.path() == null ? current : ConfigLoader.reload(current.path());
        buildCheck.check(next.config());
        return next;
    }

    /** The reload steps, kept off the gateway's public surface. */
    private final class Steps implements ReloadTarget {

        @Override
        public FlushReport flushAllInboundDebouncers(Duration timeout) throws InterruptedException {
            return stages.debouncerRegistry.flushAllInboundDebouncers(timeout);
        }

        @Override
        public boolean hasQueuedFollowups() {
            return stages.turns.hasQueuedFollowups();
        }

        @Override
        public DrainReport waitForFollowupQueueDrain(Duration timeout) throws InterruptedException {
            return stages.turns.waitForFollowupQueueDrain(timeout);
        }

        @Override
        public void markDraining() {
            if (state == GatewayState.RUNNING) {
                state = GatewayState.DRAINING;
            }
            stages.turns.pause();
        }

        @Override
        public boolean awaitRunningTurns(Duration timeout) throws InterruptedException {
            return stages.turns.awaitNoRunningTurns(timeout);
        }

        @Override
        public int abortRunningTurns() {
            return stages.turns.parkRunningTurns();
        }

        @Override
        public PreparedReload prepare(LoadedConfig next) {
            return prepareReload(next);
        }

        @Override
        public void applied(long generation) {
            stages.events.publish(new GatewayEvent.ReloadApplied(generation));
        }

        @Override
        public void clearDraining() {
            if (state == GatewayState.DRAINING) {
                state = GatewayState.RUNNING;
            }
            stages.turns.resume();
        }
    }

    /**
     * Makes ready what {@code next} changes, with no visible effect: a listener on a new address is bound
     * (and answers 503 until the commit),
     * a changed backend is built, every channel prepares its change. Whatever fails closes what was made
     * before it and refuses the reload.
     */
    private PreparedReload prepareReload(LoadedConfig next) {
        FerryConfig was = loaded.config();
        FerryConfig now = next.config();
        HttpApi rebound = null;
        AgentBackend rebuilt = null;
        Channels.Prepared channelChange = null;
        try {
            if (!was.gateway().bind().equals(now.gateway().bind()) || was.gateway().port() != now.gateway().port()) {
                rebound = listener(now.gateway());
                rebound.start();
            }
            if (!was.agent().equals(now.agent())) {
                rebuilt = stages.createBackend(now);
            }
            // Last, so nothing after it can fail; a channel that fails to prepare has discarded the others' parts.
            channelChange = stages.channels.prepare(now);
        } catch (RuntimeException e) {
            closeQuietly(rebound);
            closeQuietly(rebuilt);
            throw e;
        }
        HttpApi newListener = rebound;
        AgentBackend newBackend = rebuilt;
        Channels.Prepared newChannels = channelChange;
        return new PreparedReload() {
            @Override
            public void commit() {
                commitReload(next, newListener, newBackend, newChannels);
            }

            @Override
            public void discard() {
                closeQuietly(newListener);
                closeQuietly(newBackend);
                newChannels.discard();
            }
        };
    }

    /** Swaps in what {@link #prepareReload} made and applies the settings that need nothing built. */
    private void commitReload(LoadedConfig next, HttpApi newListener, AgentBackend newBackend,
                              Channels.Prepared newChannels) {
        FerryConfig was = loaded.config();
        FerryConfig now = next.config();
        if (newListener != null) {
            HttpApi old = http;
            newListener.serve();
            http = newListener;
            // The answer to the config.patch that moved it may still be in flight there: it closes once that is written.
            old.retire();
            log.info("listener moved url={}", url());
        }
        if (newBackend != null) {
            stages.useBackend(newBackend, now);
        }
        if (!was.messages().queue().equals(now.messages().queue())) {
            stages.turns.useQueueConfig(now.messages().queue());
        }
        if (!was.session().equals(now.session())) {
            stages.router.useScope(now.session().scope());
        }
        // Every channel and its debounce settings, as prepared.
        newChannels.commit();
        if (!was.state().equals(now.state()) || !was.journal().equals(now.journal())) {
            log.warn("state and journal settings take effect at the next start");
        }
        loaded = next;
    }

    // ---- RPC and status ---------------------------------------------------------------------------------

    /** The HTTP listener for {@code gateway}'s address; what it serves is the same for every address. */
    private HttpApi listener(GatewayConfig gateway) {
        return new HttpApi(gateway, this::gatewayToken, rpcMethods, stages.channels, stages.metrics, this::health,
                controlSocket, () -> loaded.config().gateway().allowedOrigins(), stages.channels::pageAt);
    }

    JsonNode health() {
        return statusRpc.health();
    }

    ObjectNode status() {
        return statusRpc.status();
    }

    // ---- stopping ----------------------------------------------------------------------------------------

    /**
     * Stops gracefully within {@code gateway.shutdownTimeoutMs}: the listener closes so nothing new is
     * accepted, then SPEC 3.3 steps 2 to 5 run, replies already made are delivered, and everything closes.
     * What did not finish stays in the journal for the next start.
     */
    public void stopGracefully() {
        if (state == GatewayState.STOPPING || closed.get()) {
            return;
        }
        state = GatewayState.STOPPING;
        long deadline = DeadlineWait.saturatedAdd(stages.scheduler.nowMillis(), loaded.config().gateway().shutdownTimeoutMs());
        log.info("stopping gen={}", generation());
        stages.events.publish(new GatewayEvent.ShuttingDown(generation()));
        try {
            // A reload still running would resume turns and could move the listener under the stop.
            if (!sequencer.stopReloads(Duration.ofMillis(millisUntil(deadline)))) {
                log.warn("stopping while a reload still runs; it is cut off");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // WebSocket clients get the shutdown event, then 1001, before the listener closing would cut them off.
        controlSocket.closeAll(Duration.ofMillis(Math.min(WS_CLOSE_GRACE.toMillis(), millisUntil(deadline))));
        closeQuietly(http);
        try {
            Duration drainBudget = Duration.ofMillis(Math.min(loaded.config().gateway().reload().drainTimeoutMs(),
                    millisUntil(deadline)));
            sequencer.drain(drainBudget, Duration.ofMillis(millisUntil(deadline)), "stop");
            if (!stages.outbox.awaitEmpty(Duration.ofMillis(millisUntil(deadline)))) {
                log.warn("stopping with replies undelivered count={} (they are sent at the next start)", stages.outbox.pendingCount());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    private long millisUntil(long deadlineMillis) {
        return DeadlineWait.millisUntil(stages.scheduler, deadlineMillis);
    }

    /** Closes at once, without waiting for work in flight: the listener first, then the stages behind it. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        state = GatewayState.STOPPING;
        closeQuietly(http);
        closeQuietly(controlSocket);
        closeQuietly(sequencer);
        stages.close();
        pidFile.delete();
        log.info("Ferry stopped gen={}", generation());
    }

    private static void closeQuietly(AutoCloseable closeable) {
        Stages.closeQuietly(closeable);
    }

    /** The jar's version, or "dev" when run from classes. */
    private static String version() {
        String version = Gateway.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }

    private static String describe(LoadedConfig loaded) {
        if (loaded.path() == null) {
            return "(inline)";
        }
        return loaded.fromFile() ? loaded.path().toString() : loaded.path() + " (not found; built-in defaults)";
    }

    private static String hostForUrl(String bind) {
        return bind.contains(":") ? "[" + bind + "]" : bind;
    }
}
