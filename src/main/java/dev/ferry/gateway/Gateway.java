package dev.ferry.gateway;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.EchoBackend;
import dev.ferry.config.FerryConfig;
import dev.ferry.config.LoadedConfig;
import dev.ferry.config.ConfigLoader;
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
import dev.ferry.journal.InMemoryJournal;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalStats;
import dev.ferry.journal.Reply;
import dev.ferry.queue.TurnScheduler;
import dev.ferry.queue.TurnSettings;
import dev.ferry.session.SessionRouter;
import dev.ferry.time.SystemScheduler;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * One running Ferry: every stage built from one configuration and wired in pipeline order, plus the
 * HTTP listener. Start-up replays what the journal holds unfinished before the listener opens, so
 * replayed messages keep their place ahead of new ones. Thread-safe.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    private final LoadedConfig loaded;
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final SystemScheduler scheduler = new SystemScheduler("ferry-timer");
    private final ExecutorService turnExecutor = Executors.newCachedThreadPool(daemonThreads("ferry-turn-"));
    private HttpClient httpClient;
    private final Journal journal;
    private final AgentBackend backend;
    private final Outbox outbox;
    private final TurnScheduler turns;
    private final DebouncerRegistry debouncerRegistry = new DebouncerRegistry();
    private final Map<String, InboundDebouncer> debouncers = new ConcurrentHashMap<>();
    private final Intake intake;
    private final WebhookInbound webhook;
    private final HttpApi http;
    private final long generation = 1;
    private volatile GatewayState state = GatewayState.STARTING;

    private Gateway(LoadedConfig loaded) {
        this.loaded = loaded;
        FerryConfig config = loaded.config();
        this.journal = new InMemoryJournal();
        this.backend = createBackend(config);
        this.outbox = new Outbox(journal, scheduler, RetryPolicy.DEFAULT, metrics);
        var settings = new TurnSettings(config.agent().maxConcurrent(), config.agent().systemPrompt(),
                config.agent().historyTurns());
        this.turns = new TurnScheduler(journal, backend, outbox, settings, scheduler, turnExecutor,
                RetryPolicy.DEFAULT, metrics);
        var router = new SessionRouter(config.session().scope(), turns);
        BatchHandler toSessions = batch -> router.route(batch.messages());
        for (String channel : enabledChannels(config)) {
            debouncers.put(channel, new InboundDebouncer(channel, DebounceSettings.forChannel(config.messages().inbound(), channel),
                    toSessions, scheduler, RetryPolicy.DEFAULT, debouncerRegistry, metrics));
        }
        this.intake = new Intake(journal, this::debounce, metrics);
        this.webhook = createWebhook(config.channels().webhook(), config.gateway().authToken());
        this.http = new HttpApi(config.gateway(), rpcMethods(), () -> webhook, metrics, this::health);
        replay(router);
    }

    /** Builds the gateway, replays the journal and opens the listener; the returned gateway is serving. */
    public static Gateway start(LoadedConfig loaded) {
        var gateway = new Gateway(loaded);
        try {
            gateway.http.start();
        } catch (RuntimeException e) {
            gateway.close();
            throw e;
        }
        gateway.state = GatewayState.RUNNING;
        log.info("Ferry ready url={} config={} gen={} agent={} startupMs={}", gateway.url(), describe(loaded),
                gateway.generation, gateway.backend.name(), ManagementFactory.getRuntimeMXBean().getUptime());
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

    private static List<String> enabledChannels(FerryConfig config) {
        List<String> channels = new ArrayList<>();
        if (config.channels().webhook().enabled()) {
            channels.add("webhook");
        }
        return channels;
    }

    private void debounce(InboundMessage message) {
        InboundDebouncer debouncer = debouncers.get(message.channel());
        if (debouncer == null) {
            throw new IllegalStateException("no debouncer for channel " + message.channel());
        }
        debouncer.submit(message);
    }

    /** Flushes every inbound debouncer; the first step of a reload or a stop (SPEC 3.3). */
    public FlushReport flushAllInboundDebouncers(Duration timeout) throws InterruptedException {
        return debouncerRegistry.flushAllInboundDebouncers(timeout);
    }

    private AgentBackend createBackend(FerryConfig config) {
        String name = config.agent().backend();
        if (!"echo".equals(name)) {
            throw new IllegalStateException("agent.backend: \"" + name + "\" is not available in this build yet; use \"echo\"");
        }
        return new EchoBackend(scheduler, Duration.ofMillis(config.agent().echo().delayMs()));
    }

    private WebhookInbound createWebhook(WebhookConfig config, Secret gatewayToken) {
        if (!config.enabled()) {
            return null;
        }
        if (config.replyUrl() != null) {
            outbox.useTransport("webhook", new WebhookReplyTransport(httpClient(), URI.create(config.replyUrl())));
        }
        // Without a channel token the gateway token guards the webhook too; without either the bind is loopback.
        Secret token = config.token().isPresent() ? config.token() : gatewayToken;
        return new WebhookInbound(intake, token);
    }

    /** Built on first use: an HTTP client sets up TLS, which costs start-up time a loopback-only gateway never needs. */
    private HttpClient httpClient() {
        if (httpClient == null) {
            httpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        }
        return httpClient;
    }

    private void replay(SessionRouter router) {
        List<Reply> undelivered = journal.undeliveredReplies();
        List<InboundMessage> pending = journal.pendingMessages();
        undelivered.forEach(outbox::enqueue);
        pending.forEach(message -> router.route(List.of(message)));
        if (!pending.isEmpty() || !undelivered.isEmpty()) {
            log.info("replayed journal pendingMessages={} undeliveredReplies={}", pending.size(), undelivered.size());
        }
    }

    private RpcMethods rpcMethods() {
        return new RpcMethods()
                .addSync("health", params -> health())
                .addSync("status", params -> status())
                .addSync("config.get", params -> configView())
                .addSync("sessions.list", params -> sessionsList())
                .addSync("chat.history", this::chatHistory);
    }

    JsonNode health() {
        return Json.object().put("ok", true).put("generation", generation).put("state", state.wireName());
    }

    ObjectNode status() {
        JournalStats stats = journal.stats();
        ObjectNode status = Json.object()
                .put("generation", generation)
                .put("state", state.wireName())
                .put("uptimeMs", ManagementFactory.getRuntimeMXBean().getUptime())
                .put("agent", backend.name())
                .put("sessions", journal.sessions().size())
                .put("bufferedDebounceKeys", debouncerRegistry.bufferedKeys())
                .put("runningTurns", turns.runningTurns());
        ArrayNode queues = status.putArray("queues");
        turns.snapshot().forEach(queue -> queues.addObject()
                .put("sessionKey", queue.sessionKey())
                .put("queued", queue.queued())
                .put("turnRunning", queue.turnRunning()));
        status.putObject("journal")
                .put("received", stats.received())
                .put("duplicates", stats.duplicates())
                .put("done", stats.done())
                .put("pending", stats.pending());
        status.putObject("outbox").put("pending", stats.outboxPending());
        return status;
    }

    private JsonNode configView() {
        ObjectNode view = Json.object();
        view.set("config", ConfigLoader.toRedactedJson(loaded.config()));
        view.put("hash", loaded.hash());
        view.put("path", loaded.path() == null ? null : loaded.path().toString());
        view.put("fromFile", loaded.fromFile());
        return view;
    }

    private JsonNode sessionsList() {
        ArrayNode sessions = Json.MAPPER.createArrayNode();
        journal.sessions().forEach(session -> sessions.addObject()
                .put("sessionKey", session.sessionKey())
                .put("turns", session.turns())
                .put("lastActiveEpochMs", session.lastActiveEpochMs()));
        return Json.object().set("sessions", sessions);
    }

    private JsonNode chatHistory(ObjectNode params) {
        String sessionKey = params.path("sessionKey").asText("");
        if (sessionKey.isBlank()) {
            throw RpcException.invalidParams("params.sessionKey: required (see sessions.list)");
        }
        JsonNode limitNode = params.get("limit");
        if (limitNode != null && (!limitNode.canConvertToInt() || limitNode.asInt() < 1)) {
            throw RpcException.invalidParams("params.limit: must be a positive integer");
        }
        int limit = limitNode == null ? 50 : Math.min(limitNode.asInt(), 1000);
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

    /** Stops the listener first, so nothing new is accepted, then the stages behind it. */
    @Override
    public void close() {
        state = GatewayState.STOPPING;
        closeQuietly(http);
        debouncers.values().forEach(Gateway::closeQuietly);
        turnExecutor.shutdown();
        try {
            turnExecutor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(scheduler);
        closeQuietly(backend);
        closeQuietly(journal);
        metrics.close();
        log.info("Ferry stopped gen={}", generation);
    }

    private static void closeQuietly(AutoCloseable closeable) {
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
