package dev.ferry.gateway;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.AgentBackends;
import dev.ferry.agent.BackendContext;
import dev.ferry.channel.ChannelCatalog;
import dev.ferry.channel.ChannelContext;
import dev.ferry.channel.Channels;
import dev.ferry.config.FerryConfig;
import dev.ferry.config.JournalConfig;
import dev.ferry.config.JournalEngine;
import dev.ferry.debounce.DebouncerRegistry;
import dev.ferry.delivery.Outbox;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.events.EventHub;
import dev.ferry.intake.Intake;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.postgres.PostgresJournal;
import dev.ferry.journal.sqlite.SqliteJournal;
import dev.ferry.queue.TurnScheduler;
import dev.ferry.queue.TurnSettings;
import dev.ferry.session.ChatCommandHandler;
import dev.ferry.session.SessionRouter;
import dev.ferry.time.SystemScheduler;
import dev.ferry.time.WallClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The object graph of one gateway: every stage built from one configuration and wired in pipeline order,
 * with the clocks, threads and event hub they share. Building is all it does; the {@link Gateway} owns
 * the life cycle. What can be refused (the backend) is made before anything is opened, and a failure
 * part-way closes what was made before it, so a start that fails leaves no journal open. Thread-safe:
 * the fields are final, except the backend, which only the reload thread replaces.
 */
final class Stages implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Stages.class);
    /** How long a close waits for the journal records of replies already sent. */
    private static final Duration OUTBOX_RECORD_GRACE = Duration.ofSeconds(2);

    final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    final SystemScheduler scheduler = new SystemScheduler("ferry-timer");
    final WallClock wallClock = WallClock.SYSTEM;
    final EventHub events = new EventHub();
    /**
     * Turn steps never wait on each other and backends answer asynchronously, so a few threads serve any
     * number of turns; a cached pool would start one per task in a burst.
     */
    private final ExecutorService turnExecutor = Executors.newFixedThreadPool(4, daemonThreads("ferry-turn-"));
    /** The reply client's threads, started on first use: its tasks never block, so two serve any number of sends. */
    private final ExecutorService httpExecutor = Executors.newFixedThreadPool(2, daemonThreads("ferry-http-"));
    private final AgentBackends backends;
    final DebouncerRegistry debouncerRegistry = new DebouncerRegistry(scheduler);
    final Journal journal;
    final Outbox outbox;
    final TurnScheduler turns;
    final SessionRouter router;
    final Channels channels;
    final Intake intake;
    /** Replaced by a reload's commit, on the reload thread. */
    private volatile AgentBackend backend;
    @GuardedBy("this")
    private HttpClient httpClient;

    /** Builds every stage of {@code config}; fails having closed whatever it had made. */
    Stages(FerryConfig config, AgentBackends backends) {
        this.backends = backends;
        this.backend = createBackend(config);
        try {
            this.journal = openJournal(config);
        } catch (RuntimeException e) {
            closeThreads();
            closeQuietly(scheduler);
            closeQuietly(backend);
            throw e;
        }
        try {
            this.outbox = new Outbox(journal, scheduler, RetryPolicy.DEFAULT, metrics, events);
            this.turns = new TurnScheduler(journal, backend, outbox, turnSettings(config), config.messages().queue(),
                    scheduler, turnExecutor, RetryPolicy.DEFAULT, metrics, events);
            this.router = new SessionRouter(config.session().scope(), turns, new ChatCommandHandler(journal, turns, outbox));
            this.channels = new Channels(ChannelCatalog.BUILT_IN, batch -> router.route(batch.messages()),
                    debouncerRegistry, outbox);
            this.intake = new Intake(journal, channels, metrics);
            channels.start(new ChannelContext(intake, scheduler, wallClock, this::httpClient, events, metrics,
                    System::getenv));
            channels.prepare(config).commit();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * The journal {@code journal.engine} names: this gateway's own SQLite file, or the PostgreSQL database
     * it shares with other gateways, whose password comes from the environment variable the config names.
     */
    private Journal openJournal(FerryConfig config) {
        JournalConfig settings = config.journal();
        if (settings.engine() == JournalEngine.POSTGRES) {
            String password = System.getenv(settings.postgres().passwordEnv());
            return PostgresJournal.open(settings.postgres(), password == null ? "" : password, this::sessionKeyOf,
                    wallClock);
        }
        return SqliteJournal.open(config.state().dir().resolve("journal.db"), settings.sync(), wallClock);
    }

    /** A message's session, as the router keys it: the shared journal files each message under it. */
    private String sessionKeyOf(InboundMessage message) {
        return router.sessionKeyOf(message);
    }

    static TurnSettings turnSettings(FerryConfig config) {
        return new TurnSettings(config.agent().maxConcurrent(), config.agent().systemPrompt(),
                config.agent().historyTurns());
    }

    /** A backend for {@code config}, from the one table; the caller owns it until it is put in service. */
    AgentBackend createBackend(FerryConfig config) {
        return backends.create(config.agent(), new BackendContext(scheduler, wallClock, System::getenv, metrics));
    }

    AgentBackend backend() {
        return backend;
    }

    /** Puts {@code next} in service for the turns that start from now on and closes the one it replaces. */
    void useBackend(AgentBackend next, FerryConfig config) {
        AgentBackend replaced = backend;
        backend = next;
        turns.useBackend(next);
        turns.useSettings(turnSettings(config));
        // The new one already serves: a replaced backend that fails to close must not stop the commit.
        closeQuietly(replaced);
    }

    /** Built on first use: an HTTP client sets up TLS, which costs start-up time a loopback-only gateway never needs. */
    private synchronized HttpClient httpClient() {
        if (httpClient == null) {
            // HTTP/1.1, which every platform API and reply receiver speaks: at its HTTP/2 default the client
            // offers each plain-http connection an h2c upgrade, an extra round of header work for nothing.
            httpClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).executor(httpExecutor).build();
        }
        return httpClient;
    }

    /**
     * Runs what the journal hands this gateway unfinished: replies not yet delivered, turns started but not
     * completed (as the same turns, so their reply ids do not change), then pending messages in their
     * original order. A journal of one gateway hands over everything now; a shared one only what this
     * gateway takes over, now and later.
     */
    void replay() {
        // Messages alone are what a shared journal hands over in normal running, one peer passing on what
        // reached it for a session held here: worth a debug line, not one per message at info.
        boolean shared = journal.cluster().isPresent();
        journal.resume((undelivered, open, pending) -> {
            undelivered.forEach(outbox::enqueue);
            open.forEach(turns::replay);
            pending.forEach(message -> router.route(List.of(message)));
            if (!open.isEmpty() || !undelivered.isEmpty() || (!pending.isEmpty() && !shared)) {
                log.info("took over from the journal openTurns={} pendingMessages={} undeliveredReplies={}",
                        open.size(), pending.size(), undelivered.size());
            } else if (!pending.isEmpty()) {
                log.debug("handed messages by the journal pendingMessages={}", pending.size());
            }
        });
    }

    /**
     * Closes at once, the pipeline's head first: channels, then the turns' threads, then the outbox after
     * a moment for the records of replies already sent, then the timer, the backend and the journal.
     */
    @Override
    public void close() {
        closeQuietly(channels);
        closeThreads();
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
    }

    private void closeThreads() {
        turnExecutor.shutdown();
        httpExecutor.shutdown();
        try {
            turnExecutor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            log.warn("close failed component={}", closeable.getClass().getSimpleName(), e);
        }
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
