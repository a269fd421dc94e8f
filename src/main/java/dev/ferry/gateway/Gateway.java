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
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.EchoBackend;
import dev.ferry.config.ConfigLoader;
import dev.ferry.config.FerryConfig;
import dev.ferry.config.GatewayConfig;
import dev.ferry.config.LoadedConfig;
import dev.ferry.config.Secret;
import dev.ferry.config.WebhookConfig;
import dev.ferry.debounce.BatchHandler;
import dev.ferry.debounce.DebounceSettings;
import dev.ferry.debounce.DebouncerRegistry;
import dev.ferry.debounce.FlushReport;
import dev.ferry.debounce.InboundDebouncer;
import dev.ferry.delivery.Outbox;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.intake.Intake;
import dev.ferry.intake.channel.webhook.WebhookInbound;
import dev.ferry.intake.channel.webhook.WebhookReplyTransport;
import dev.ferry.journal.SqliteJournal;
import dev.ferry.journal.Turn;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalHealth;
import dev.ferry.journal.JournalStats;
import dev.ferry.journal.Reply;
import dev.ferry.queue.DrainReport;
import dev.ferry.queue.TurnScheduler;
import dev.ferry.queue.TurnSettings;
import dev.ferry.session.ChatCommandHandler;
import dev.ferry.session.SessionRouter;
import dev.ferry.time.SystemScheduler;
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
    private static final String WEBHOOK = "webhook";
    private static final Duration PRUNE_EVERY = Duration.ofHours(1);

    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final SystemScheduler scheduler = new SystemScheduler("ferry-timer");
    /**
     * Turn steps never wait on each other and backends answer asynchronously, so a few threads serve any
     * number of turns; a cached pool would start one per task in a burst.
     */
    private final ExecutorService turnExecutor = Executors.newFixedThreadPool(4, daemonThreads("ferry-turn-"));
    /** The reply client's threads, started on first use: its tasks never block, so two serve any number of sends. */
    private final ExecutorService httpExecutor = Executors.newFixedThreadPool(2, daemonThreads("ferry-http-"));
    private final Journal journal;
    private final Outbox outbox;
    private final TurnScheduler turns;
    private final SessionRouter router;
    private final BatchHandler toSessions;
    private final DebouncerRegistry debouncerRegistry = new DebouncerRegistry();
    private final Map<String, InboundDebouncer> debouncers = new ConcurrentHashMap<>();
    private final Intake intake;
    private final RunLoop runLoop;
    private final ConfigRpc configRpc;
    private final Path pidFile;

    private volatile LoadedConfig loaded;
    private volatile AgentBackend backend;
    private volatile WebhookInbound webhook;
    private final RpcMethods rpcMethods;
    private volatile HttpApi http;
    private volatile GatewayState state = GatewayState.STARTING;
    private final AtomicBoolean closed = new AtomicBoolean();
    private HttpClient httpClient;

    private Gateway(LoadedConfig loaded) {
        this.loaded = loaded;
        FerryConfig config = loaded.config();
        this.pidFile = config.state().dir().resolve("ferry.pid");
        this.journal = SqliteJournal.open(config.state().dir().resolve("journal.db"), config.journal().sync());
        this.backend = createBackend(config);
        this.outbox = new Outbox(journal, scheduler, RetryPolicy.DEFAULT, metrics);
        this.turns = new TurnScheduler(journal, backend, outbox, turnSettings(config), config.messages().queue(),
                scheduler, turnExecutor, RetryPolicy.DEFAULT, metrics, dev.ferry.events.GatewayEvents.NONE);
        this.router = new SessionRouter(config.session().scope(), turns, new ChatCommandHandler(journal, turns, outbox));
        this.toSessions = batch -> router.route(batch.messages());
        this.intake = new Intake(journal, this::debounce, metrics);
        applyChannels(null, config);
        this.runLoop = new RunLoop(new Steps(), this::reloadSource, config.gateway(), metrics);
        this.configRpc = new ConfigRpc(() -> this.loaded, runLoop, this::url);
        this.rpcMethods = createRpcMethods();
        this.http = listener(config.gateway());
        replay();
        schedulePrune(Duration.ofMinutes(1));
    }

    /** Builds the gateway, replays the journal and opens the listener; the returned gateway is serving. */
    public static Gateway start(LoadedConfig loaded) {
        var gateway = new Gateway(loaded);
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
        return runLoop.generation();
    }

    /** Reloads the configuration (SPEC 3.3); requests made while one runs coalesce into one more. */
    public CompletableFuture<ReloadOutcome> reload(String trigger) {
        return runLoop.requestReload(trigger);
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
        String name = config.agent().backend();
        if (!"echo".equals(name)) {
            throw new IllegalStateException("agent.backend: \"" + name + "\" is not available in this build yet; use \"echo\"");
        }
        return new EchoBackend(scheduler, Duration.ofMillis(config.agent().echo().delayMs()));
    }

    private Secret gatewayToken() {
        return loaded.config().gateway().authToken();
    }

    /** Creates, replaces or closes the webhook channel and its debouncer as {@code next} says. */
    private void applyChannels(FerryConfig previous, FerryConfig next) {
        WebhookConfig was = previous == null ? null : previous.channels().webhook();
        WebhookConfig now = next.channels().webhook();
        Secret tokenNow = next.gateway().authToken();
        boolean tokenChanged = previous == null || !previous.gateway().authToken().equals(tokenNow);
        if (now.equals(was) && !tokenChanged) {
            return;
        }
        if (!now.enabled()) {
            webhook = null;
            outbox.useTransport(WEBHOOK, null, now.maxConcurrentSends());
            InboundDebouncer closing = debouncers.remove(WEBHOOK);
            if (closing != null) {
                closing.close();
            }
            return;
        }
        outbox.useTransport(WEBHOOK, now.replyUrl() == null ? null
                : new WebhookReplyTransport(httpClient(), URI.create(now.replyUrl())), now.maxConcurrentSends());
        debouncers.computeIfAbsent(WEBHOOK, channel -> new InboundDebouncer(channel,
                DebounceSettings.forChannel(next.messages().inbound(), channel), toSessions, scheduler,
                RetryPolicy.DEFAULT, debouncerRegistry, metrics));
        // Without a channel token the gateway token guards the webhook too; without either the bind is loopback.
        webhook = new WebhookInbound(intake, now.token().isPresent() ? now.token() : tokenNow);
    }

    /** Built on first use: an HTTP client sets up TLS, which costs start-up time a loopback-only gateway never needs. */
    private synchronized HttpClient httpClient() {
        if (httpClient == null) {
            httpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).executor(httpExecutor).build();
        }
        return httpClient;
    }

    private void debounce(InboundMessage message) {
        InboundDebouncer debouncer = debouncers.get(message.channel());
        if (debouncer == null) {
            // The channel was closed by a reload after this message was journaled: it still goes on, alone.
            router.route(List.of(message));
            return;
        }
        debouncer.submit(message);
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
            long cutoff = System.currentTimeMillis() - Duration.ofDays(loaded.config().journal().retentionDays()).toMillis();
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
        return current.path() == null ? current : ConfigLoader.reload(current.path());
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
        public void apply(LoadedConfig next) {
            applyConfig(next);
        }

        @Override
        public void clearDraining() {
            if (state == GatewayState.DRAINING) {
                state = GatewayState.RUNNING;
            }
            turns.resume();
        }
    }

    /** Rebuilds only what changed; the listener is rebound first, so a bad address leaves everything as it was. */
    private void applyConfig(LoadedConfig next) {
        FerryConfig was = loaded.config();
        FerryConfig now = next.config();
        if (!was.gateway().bind().equals(now.gateway().bind()) || was.gateway().port() != now.gateway().port()) {
            HttpApi rebound = listener(now.gateway());
            rebound.start();
            HttpApi old = http;
            http = rebound;
            // The answer to the config.patch that moved it may still be in flight there: it closes once that is written.
            old.retire();
            log.info("listener moved url={}", url());
        }
        if (!was.agent().equals(now.agent())) {
            AgentBackend replaced = backend;
            backend = createBackend(now);
            turns.useBackend(backend);
            turns.useSettings(turnSettings(now));
            replaced.close();
        }
        if (!was.messages().queue().equals(now.messages().queue())) {
            turns.useQueueConfig(now.messages().queue());
        }
        if (!was.messages().inbound().equals(now.messages().inbound())) {
            debouncers.forEach((channel, debouncer) ->
                    debouncer.useSettings(DebounceSettings.forChannel(now.messages().inbound(), channel)));
        }
        if (!was.session().equals(now.session())) {
            router.useScope(now.session().scope());
        }
        applyChannels(was, now);
        if (!was.state().equals(now.state()) || !was.journal().equals(now.journal())) {
            log.warn("state and journal settings take effect at the next start");
        }
        loaded = next;
    }

    // ---- RPC and status ---------------------------------------------------------------------------------

    /** The HTTP listener for {@code gateway}'s address; what it serves is the same for every address. */
    private HttpApi listener(GatewayConfig gateway) {
        return new HttpApi(gateway, this::gatewayToken, rpcMethods, () -> webhook, metrics, this::health);
    }

    private RpcMethods createRpcMethods() {
        RpcMethods methods = new RpcMethods()
                .addSync("health", params -> health())
                .addSync("status", params -> status())
                .addSync("sessions.list", this::sessionsList)
                .addSync("chat.history", this::chatHistory)
                .add("sessions.reset", this::resetSession)
                .addSync("replies.failed", this::failedReplies)
                .add("replies.retry", this::retryReply)
                .add("gateway.reload", params -> reload("rpc").thenApply(configRpc::describe));
        configRpc.register(methods);
        return methods;
    }

    JsonNode health() {
        return Json.object().put("ok", true).put("generation", generation()).put("state", state.wireName());
    }

    ObjectNode status() {
        JournalStats stats = journal.stats();
        ObjectNode status = Json.object()
                .put("generation", generation())
                .put("state", state.wireName())
                .put("uptimeMs", ManagementFactory.getRuntimeMXBean().getUptime())
                .put("agent", backend.name())
                .put("sessions", journal.sessionCount())
                .put("bufferedDebounceKeys", debouncerRegistry.bufferedKeys())
                .put("runningTurns", turns.runningTurns());
        ArrayNode queues = status.putArray("queues");
        turns.snapshot().forEach(queue -> queues.addObject()
                .put("sessionKey", queue.sessionKey())
                .put("mode", queue.settings().mode().configName())
                .put("queued", queue.queued())
                .put("draining", queue.draining())
                .put("turnRunning", queue.turnRunning())
                .put("dropped", queue.dropped())
                .put("superseded", queue.superseded()));
        JournalHealth health = journal.health();
        status.putObject("journal")
                .put("writable", health.writable())
                .put("problem", health.problem())
                .put("received", stats.received())
                .put("duplicates", stats.duplicates())
                .put("done", stats.done())
                .put("dropped", stats.dropped())
                .put("superseded", stats.superseded())
                .put("pending", stats.pending());
        status.putObject("outbox").put("pending", stats.outboxPending()).put("failed", stats.outboxFailed());
        return status;
    }

    /** One page of sessions, most recently active first; {@code nextOffset} is null on the last page. */
    private JsonNode sessionsList(ObjectNode params) {
        int limit = intParam(params, "limit", 100, 1, 1000);
        int offset = intParam(params, "offset", 0, 0, Integer.MAX_VALUE);
        long total = journal.sessionCount();
        ArrayNode sessions = Json.MAPPER.createArrayNode();
        journal.sessions(offset, limit).forEach(session -> sessions.addObject()
                .put("sessionKey", session.sessionKey())
                .put("turns", session.turns())
                .put("lastActiveEpochMs", session.lastActiveEpochMs()));
        ObjectNode payload = Json.object();
        payload.set("sessions", sessions);
        payload.put("total", total);
        return offset + (long) limit < total ? payload.put("nextOffset", offset + limit) : payload.putNull("nextOffset");
    }

    private static int intParam(ObjectNode params, String name, int fallback, int min, int max) {
        JsonNode node = params.get(name);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() < min || node.intValue() > max) {
            throw RpcException.invalidParams("params." + name + ": must be an integer from " + min
                    + (max == Integer.MAX_VALUE ? " up" : " to " + max) + ", got " + node);
        }
        return node.intValue();
    }

    /** Clears one session's transcript and {@code /queue} settings. */
    private CompletableFuture<JsonNode> resetSession(ObjectNode params) {
        String sessionKey = params.path("sessionKey").asText("");
        if (sessionKey.isBlank()) {
            throw RpcException.invalidParams("params.sessionKey: required (see sessions.list)");
        }
        return turns.changeDirective(sessionKey, stored -> null)
                .thenCompose(ignored -> journal.resetSession(sessionKey))
                .thenApply(ignored -> Json.object().put("sessionKey", sessionKey).put("reset", true));
    }

    /** Failed replies, newest first, with the reason the platform gave. */
    private JsonNode failedReplies(ObjectNode params) {
        ArrayNode replies = Json.MAPPER.createArrayNode();
        journal.failedReplies(limit(params)).forEach(failed -> replies.addObject()
                .put("replyId", failed.reply().replyId())
                .put("sessionKey", failed.reply().sessionKey())
                .put("channel", failed.reply().channel())
                .put("conversation", failed.reply().conversation())
                .put("reason", failed.reason())
                .put("failedAtEpochMs", failed.failedAtEpochMs())
                .put("text", failed.reply().text()));
        return Json.object().set("replies", replies);
    }

    /** Puts one failed reply back in the outbox; a second call for it fails until it has failed again. */
    private CompletableFuture<JsonNode> retryReply(ObjectNode params) {
        String replyId = params.path("replyId").asText("");
        if (replyId.isBlank()) {
            throw RpcException.invalidParams("params.replyId: required (see replies.failed)");
        }
        return outbox.retryFailed(replyId).thenApply(requeued -> {
            if (requeued.isEmpty()) {
                throw new RpcException("NOT_FOUND", 404, "params.replyId: no failed reply \"" + replyId
                        + "\" (see replies.failed)");
            }
            return Json.object().put("replyId", replyId).put("requeued", true);
        });
    }

    /** {@code params.limit}: a positive integer, 50 when absent, at most 1000. */
    private static int limit(ObjectNode params) {
        JsonNode limitNode = params.get("limit");
        if (limitNode != null && (!limitNode.canConvertToInt() || limitNode.asInt() < 1)) {
            throw RpcException.invalidParams("params.limit: must be a positive integer");
        }
        return limitNode == null ? 50 : Math.min(limitNode.asInt(), 1000);
    }

    private JsonNode chatHistory(ObjectNode params) {
        String sessionKey = params.path("sessionKey").asText("");
        if (sessionKey.isBlank()) {
            throw RpcException.invalidParams("params.sessionKey: required (see sessions.list)");
        }
        int limit = limit(params);
        ArrayNode exchanges = Json.MAPPER.createArrayNode();
        journal.transcript(sessionKey, limit).forEach(exchange -> exchanges.addObject()
                .put("turnId", exchange.turnId())
                .put("prompt", exchange.prompt())
                .put("reply", exchange.reply())
                .put("completedAtEpochMs", exchange.completedAtEpochMs()));
        ObjectNode payload = Json.object().put("sessionKey", sessionKey);
        payload.set("exchanges", exchanges);
        return payload;
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
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(loaded.config().gateway().shutdownTimeoutMs());
        log.info("stopping gen={}", generation());
        closeQuietly(http);
        try {
            Duration drainBudget = Duration.ofMillis(Math.min(loaded.config().gateway().reload().drainTimeoutMs(),
                    millisUntil(deadline)));
            runLoop.drain(drainBudget, Duration.ofMillis(millisUntil(deadline)), "stop");
            if (!outbox.awaitEmpty(Duration.ofMillis(millisUntil(deadline)))) {
                log.warn("stopping with replies undelivered count={} (they are sent at the next start)", outbox.pendingCount());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    private static long millisUntil(long deadlineNanos) {
        return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
    }

    /** Closes at once, without waiting for work in flight: the listener first, then the stages behind it. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        state = GatewayState.STOPPING;
        closeQuietly(http);
        closeQuietly(runLoop);
        debouncers.values().forEach(Gateway::closeQuietly);
        turnExecutor.shutdown();
        httpExecutor.shutdown();
        try {
            turnExecutor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
