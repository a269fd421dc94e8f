package dev.ferry.gateway;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.AgentBackends;
import dev.ferry.channel.ChannelCatalog;
import dev.ferry.channel.ChannelContext;
import dev.ferry.channel.Channels;
import dev.ferry.config.ConfigException;
import dev.ferry.config.ConfigLoader;
import dev.ferry.config.FerryConfig;
import dev.ferry.config.GatewayConfig;
import dev.ferry.config.LoadedConfig;
import dev.ferry.config.Secret;
import dev.ferry.control.BuildCheck;
import dev.ferry.control.ConfigRpc;
import dev.ferry.control.ControlMethods;
import dev.ferry.control.LiveState;
import dev.ferry.control.ReloadOutcome;
import dev.ferry.control.RpcMethods;
import dev.ferry.control.StatusRpc;
import dev.ferry.debounce.BatchHandler;
import dev.ferry.debounce.DebouncerRegistry;
import dev.ferry.debounce.FlushReport;
import dev.ferry.delivery.Outbox;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.events.EventHub;
import dev.ferry.events.GatewayEvent;
import dev.ferry.intake.Intake;
import dev.ferry.journal.sqlite.SqliteJournal;
import dev.ferry.journal.Turn;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.Reply;
import dev.ferry.queue.DrainReport;
import dev.ferry.queue.TurnScheduler;
import dev.ferry.queue.TurnSettings;
import dev.ferry.session.ChatCommandHandler;
import dev.ferry.session.SessionRouter;
import dev.ferry.time.DeadlineWait;
import dev.ferry.time.SystemScheduler;
import dev.ferry.time.WallClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * One running Ferry: every stage built from one configuration and wired in pipeline order, the HTTP
 * listener, and the run loop that reloads and stops it (SPEC 3.3). Start-up replays what the journal
 * holds unfinished before the listener opens, so replayed messages keep their place ahead of new ones.
 * A reload rebuilds only what its configuration changed; the listener stays bound unless its address
 * changed. Thread-safe: the parts a reload replaces are volatile and only the reload thread writes them.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);
    private static final Duration PRUNE_EVERY = Duration.ofHours(1);
    /** How long a close waits for the journal records of replies already sent. */
    private static final Duration OUTBOX_RECORD_GRACE = Duration.ofSeconds(2);

    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final SystemScheduler scheduler = new SystemScheduler("ferry-timer");
    private final WallClock wallClock = WallClock.SYSTEM;
    private final EventHub events = new EventHub();
    /**
     * Turn steps never wait on each other and backends answer asynchronously, so a few threads serve any
     * number of turns; a cached pool would start one per task in a burst.
     */
    private final ExecutorService turnExecutor = Executors.newFixedThreadPool(4, daemonThreads("ferry-turn-"));
    /** The reply client's threads, started on first use: its tasks never block, so two serve any number of sends. */
    private final ExecutorService httpExecutor = Executors.newFixedThreadPool(2, daemonThreads("ferry-http-"));
    private final AgentBackends backends;
    private final BuildCheck buildCheck;
    private final Journal journal;
    private final Outbox outbox;
    private final TurnScheduler turns;
    private final SessionRouter router;
    private final BatchHandler toSessions;
    private final DebouncerRegistry debouncerRegistry = new DebouncerRegistry(scheduler);
    private final Channels channels;
    private final Intake intake;
    private final ReloadSequencer sequencer;
    private final ConfigRpc configRpc;
    private final StatusRpc statusRpc;
    private final Path pidFile;

    private volatile LoadedConfig loaded;
    private volatile AgentBackend backend;
    private final RpcMethods rpcMethods;
    private volatile HttpApi http;
    private volatile GatewayState state = GatewayState.STARTING;
    private final AtomicBoolean closed = new AtomicBoolean();
    @GuardedBy("this")
    private HttpClient httpClient;

    /**
     * Builds every stage; what can be refused (the build check, the backend) is refused before anything is
     * opened, and a later failure closes what was opened before it.
     */
    private Gateway(LoadedConfig loaded, AgentBackends backends) throws ConfigException {
        this.loaded = loaded;
        this.backends = backends;
        this.buildCheck = new BuildCheck(backends);
        FerryConfig config = buildCheck.check(loaded.config());
        this.pidFile = config.state().dir().resolve("ferry.pid");
        this.backend = createBackend(config);
        try {
            this.journal = SqliteJournal.open(config.state().dir().resolve("journal.db"), config.journal().sync());
        } catch (RuntimeException e) {
            closeQuietly(backend);
            throw e;
        }
        try {
            this.outbox = new Outbox(journal, scheduler, RetryPolicy.DEFAULT, metrics, events);
        this.turns = new TurnScheduler(journal, backend, outbox, turnSettings(config), config.messages().queue(),
                scheduler, turnExecutor, RetryPolicy.DEFAULT, metrics);
        this.router = new SessionRouter(config.session().scope(), turns, new ChatCommandHandler(journal, turns, outbox));
        this.toSessions = batch -> router.route(batch.messages());
        this.channels = new Channels(ChannelCatalog.BUILT_IN, toSessions, debouncerRegistry, outbox);
        this.intake = new Intake(journal, channels, metrics);
        channels.start(new ChannelContext(intake, scheduler, wallClock, this::httpClient, events, metrics));
        channels.prepare(config).commit();
        this.sequencer = new ReloadSequencer(new Steps(), this::reloadSource, config.gateway(), metrics, scheduler);
        this.configRpc = new ConfigRpc(() -> this.loaded, sequencer::requestReload, this::url, buildCheck);
        this.statusRpc = new StatusRpc(new LiveState(this::generation, () -> state.wireName(), () -> backend.name(),
                debouncerRegistry::bufferedKeys), journal, turns);
        this.rpcMethods = ControlMethods.create(statusRpc, journal, turns, outbox, configRpc, this::reload);
        this.http = listener(config.gateway());
        replay();
        schedulePrune(Duration.ofMinutes(1));
        } catch (RuntimeException e) {
            close();
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
            gateway.writePidFile();
        } catch (RuntimeException e) {
            gateway.close();
            throw e;
        }
        gateway.state = GatewayState.RUNNING;
        log.info("Ferry ready url={} config={} gen={} agent={} startupMs={}", gateway.url(), describe(loaded),
                gateway.generation(), gateway.backend.name(), ManagementFactory.getRuntimeMXBean().getUptime());
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

    /** Reloads the configuration (SPEC 3.3); requests made while one runs coalesce into one more. */
    public CompletableFuture<ReloadOutcome> reload(String trigger) {
        return sequencer.requestReload(trigger);
    }

    /** Flushes every inbound debouncer; the first step of a reload or a stop (SPEC 3.3). */
    public FlushReport flushAllInboundDebouncers(Duration timeout) throws InterruptedException {
        return debouncerRegistry.flushAllInboundDebouncers(timeout);
    }

    // ---- building from configuration ----------------------------------------------------------------------

    private static TurnSettings turnSettings(FerryConfig config) {
        return new TurnSettings(config.agent().maxConcurrent(), config.agent().systemPrompt(),
                config.agent().historyTurns());
    }

    private AgentBackend createBackend(FerryConfig config) {
        return backends.create(config.agent(), new AgentBackends.Context(scheduler));
    }

    /** The gateway's event stream: what turns, replies, queues and reloads do, as they do it. */
    public EventHub events() {
        return events;
    }

    private Secret gatewayToken() {
        return loaded.config().gateway().authToken();
    }

    /** Built on first use: an HTTP client sets up TLS, which costs start-up time a loopback-only gateway never needs. */
    private synchronized HttpClient httpClient() {
        if (httpClient == null) {
            httpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).executor(httpExecutor).build();
        }
        return httpClient;
    }

    /**
     * Runs again what the journal holds unfinished: replies not yet delivered, turns started but not
     * completed (as the same turns, so their reply ids do not change), then pending messages in their
     * original order.
     */
    private void replay() {
        List<Reply> undelivered = journal.undeliveredReplies();
        List<Turn> open = journal.openTurns();
        Set<Long> inOpenTurns = new HashSet<>();
        open.forEach(turn -> turn.messages().forEach(message -> inOpenTurns.add(message.seq())));
        List<InboundMessage> pending = journal.pendingMessages().stream()
                .filter(message -> !inOpenTurns.contains(message.seq())).toList();
        undelivered.forEach(outbox::enqueue);
        open.forEach(turns::replay);
        pending.forEach(message -> router.route(List.of(message)));
        if (!pending.isEmpty() || !open.isEmpty() || !undelivered.isEmpty()) {
            log.info("replayed journal openTurns={} pendingMessages={} undeliveredReplies={}", open.size(),
                    pending.size(), undelivered.size());
        }
    }

    /** Prunes settled rows past {@code journal.retentionDays} now and then, on the journal's writer, never blocking intake. */
    private void schedulePrune(Duration after) {
        scheduler.schedule(after, () -> {
            if (closed.get()) {
                return;
            }
            long cutoff = wallClock.epochMillis() - Duration.ofDays(loaded.config().journal().retentionDays()).toMillis();
            journal.prune(cutoff, loaded.config().agent().historyTurns()).whenComplete((removed, error) -> {
                if (error != null) {
                    log.warn("journal prune failed reason={}", error.toString());
                } else if (removed > 0) {
                    log.info("journal pruned rows={} retentionDays={}", removed, loaded.config().journal().retentionDays());
                }
            });
            schedulePrune(PRUNE_EVERY);
        });
    }

    /**
     * What a reload reads: the file the gateway started from, or the same inline configuration again. A
     * file that is missing, empty or not a regular file is refused, never read as the defaults.
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
            return debouncerRegistry.flushAllInboundDebouncers(timeout);
        }

        @Override
        public boolean hasQueuedFollowups() {
            return turns.hasQueuedFollowups();
        }

        @Override
        public DrainReport waitForFollowupQueueDrain(Duration timeout) throws InterruptedException {
            return turns.waitForFollowupQueueDrain(timeout);
        }

        @Override
        public void markDraining() {
            if (state == GatewayState.RUNNING) {
                state = GatewayState.DRAINING;
            }
            turns.pause();
        }

        @Override
        public boolean awaitRunningTurns(Duration timeout) throws InterruptedException {
            return turns.awaitNoRunningTurns(timeout);
        }

        @Override
        public int abortRunningTurns() {
            return turns.parkRunningTurns();
        }

        @Override
        public PreparedReload prepare(LoadedConfig next) {
            return prepareReload(next);
        }

        @Override
        public void applied(long generation) {
            events.publish(new GatewayEvent.ReloadApplied(generation));
        }

        @Override
        public void clearDraining() {
            if (state == GatewayState.DRAINING) {
                state = GatewayState.RUNNING;
            }
            turns.resume();
        }
    }

    /**
     * Makes ready what {@code next} changes, with no visible effect: a listener on a new address is bound,
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
                rebuilt = createBackend(now);
            }
            // Last, so nothing after it can fail; a channel that fails to prepare has discarded the others' parts.
            channelChange = channels.prepare(now);
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
            http = newListener;
            // The answer to the config.patch that moved it may still be in flight there: it closes once that is written.
            old.retire();
            log.info("listener moved url={}", url());
        }
        if (newBackend != null) {
            AgentBackend replaced = backend;
            backend = newBackend;
            turns.useBackend(newBackend);
            turns.useSettings(turnSettings(now));
            replaced.close();
        }
        if (!was.messages().queue().equals(now.messages().queue())) {
            turns.useQueueConfig(now.messages().queue());
        }
        if (!was.session().equals(now.session())) {
            router.useScope(now.session().scope());
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
        return new HttpApi(gateway, this::gatewayToken, rpcMethods, channels, metrics, this::health);
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
        long deadline = DeadlineWait.saturatedAdd(scheduler.nowMillis(), loaded.config().gateway().shutdownTimeoutMs());
        log.info("stopping gen={}", generation());
        events.publish(new GatewayEvent.ShuttingDown(generation()));
        closeQuietly(http);
        try {
            Duration drainBudget = Duration.ofMillis(Math.min(loaded.config().gateway().reload().drainTimeoutMs(),
                    millisUntil(deadline)));
            sequencer.drain(drainBudget, Duration.ofMillis(millisUntil(deadline)), "stop");
            if (!outbox.awaitEmpty(Duration.ofMillis(millisUntil(deadline)))) {
                log.warn("stopping with replies undelivered count={} (they are sent at the next start)", outbox.pendingCount());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    private long millisUntil(long deadlineMillis) {
        return DeadlineWait.millisUntil(scheduler, deadlineMillis);
    }

    /** Closes at once, without waiting for work in flight: the listener first, then the stages behind it. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        state = GatewayState.STOPPING;
        closeQuietly(http);
        closeQuietly(sequencer);
        closeQuietly(channels);
        turnExecutor.shutdown();
        httpExecutor.shutdown();
        try {
            turnExecutor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (outbox != null) {
            try {
                // Records of sends that already settled are worth the wait: without them a reply goes out twice.
                outbox.close(OUTBOX_RECORD_GRACE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        events.closeAll("gateway stopped");
        closeQuietly(scheduler);
        closeQuietly(backend);
        closeQuietly(journal);
        metrics.close();
        deletePidFile();
        log.info("Ferry stopped gen={}", generation());
    }

    private void writePidFile() {
        try {
            Files.createDirectories(pidFile.getParent());
            Files.writeString(pidFile, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            log.warn("cannot write pid file path={} reason={}", pidFile, e.getMessage());
        }
    }

    private void deletePidFile() {
        try {
            String content = Files.readString(pidFile).trim();
            // Only our own: another gateway may have started on the same state dir since.
            if (content.equals(String.valueOf(ProcessHandle.current().pid()))) {
                Files.deleteIfExists(pidFile);
            }
        } catch (IOException ignored) {
            // No pid file, nothing to remove.
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            log.warn("close failed component={}", closeable.getClass().getSimpleName(), e);
        }
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

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
