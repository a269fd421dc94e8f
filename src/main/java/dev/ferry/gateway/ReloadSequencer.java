package dev.ferry.gateway;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.control.ReloadOutcome;
import dev.ferry.config.ConfigException;
import dev.ferry.config.GatewayConfig;
import dev.ferry.config.LoadedConfig;
import dev.ferry.debounce.FlushReport;
import dev.ferry.queue.DrainReport;
import dev.ferry.time.Scheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Sequences reloads and the drain of a stop. A reload follows SPEC 3.3 in its contract order: validate,
 * then prepare everything the new configuration changes (bind, build, prepare each channel) with no
 * visible effect, flush the debouncers, wait for the followup queues only if something was buffered,
 * mark draining, wait for running turns and then abort the rest, commit what was prepared, clear
 * draining. A reload is all or nothing: what cannot be prepared refuses it before anything drains, and
 * what was prepared is discarded if the reload ends any other way than its commit. Reloads run one at a
 * time on their own thread; requests that arrive while one runs coalesce into exactly one more.
 * Thread-safe; the request state is guarded by {@code lock}.
 */
final class ReloadSequencer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReloadSequencer.class);

    private final ReloadTarget target;
    /** Times each reload for its log line. */
    private final Scheduler clock;
    private final Callable<LoadedConfig> loadConfig;
    private final ExecutorService reloads = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "ferry-reload");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicLong generation = new AtomicLong(1);
    private final Counter applied;
    private final Counter failed;
    private volatile GatewayConfig gatewayConfig;

    private final Object lock = new Object();
    @GuardedBy("lock")
    private boolean reloading;
    /** The one reload that will follow the running one; every request meanwhile shares it. */
    @GuardedBy("lock")
    private CompletableFuture<ReloadOutcome> next;

    ReloadSequencer(ReloadTarget target, Callable<LoadedConfig> loadConfig, GatewayConfig gatewayConfig,
                    MeterRegistry metrics, Scheduler clock) {
        this.clock = clock;
        this.target = target;
        this.loadConfig = loadConfig;
        this.gatewayConfig = gatewayConfig;
        this.applied = reloads("applied", metrics);
        this.failed = reloads("failed", metrics);
    }

    /** One description for both results: Prometheus keeps one HELP line per metric name. */
    private static Counter reloads(String result, MeterRegistry metrics) {
        return Counter.builder("ferry.reloads").tag("result", result)
                .description("Configuration reloads: applied, or failed (refused, or could not be applied)")
                .register(metrics);
    }

    long generation() {
        return generation.get();
    }

    /** Starts a reload, or joins the one queued behind the running reload. */
    CompletableFuture<ReloadOutcome> requestReload(String trigger) {
        synchronized (lock) {
            if (reloading) {
                if (next == null) {
                    next = new CompletableFuture<>();
                    log.info("reload requested while one runs; it will follow trigger={}", trigger);
                }
                return next;
            }
            reloading = true;
        }
        CompletableFuture<ReloadOutcome> outcome = new CompletableFuture<>();
        try {
            reloads.execute(() -> runReloads(outcome, trigger));
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            synchronized (lock) {
                reloading = false;
            }
            outcome.completeExceptionally(new IllegalStateException("the gateway is stopping; no reload"));
        }
        return outcome;
    }

    private void runReloads(CompletableFuture<ReloadOutcome> first, String trigger) {
        CompletableFuture<ReloadOutcome> current = first;
        String reason = trigger;
        while (current != null) {
            try {
                current.complete(reloadOnce(reason));
            } catch (RuntimeException | Error e) {
                // A fault outside the sequence's own handling still answers the caller and frees the sequencer.
                log.error("reload failed trigger={} gen={}", reason, generation.get(), e);
                current.completeExceptionally(e);
            }
            synchronized (lock) {
                current = next;
                next = null;
                reason = "coalesced";
                if (current == null) {
                    reloading = false;
                }
            }
        }
    }

    private ReloadOutcome reloadOnce(String trigger) {
        long startedAt = clock.nowMillis();
        LoadedConfig loaded;
        PreparedReload prepared;
        try {
            loaded = loadConfig.call();
            prepared = target.prepare(loaded);
        } catch (ConfigException e) {
            failed.increment();
            log.error("reload refused; running on as before trigger={} gen={} errors={}", trigger, generation.get(),
                    String.join("; ", e.errors()));
            return new ReloadOutcome(false, generation.get(), e.errors());
        } catch (Exception e) {
            failed.increment();
            log.error("reload refused: cannot read or prepare configuration trigger={} gen={}", trigger, generation.get(), e);
            return new ReloadOutcome(false, generation.get(), List.of(String.valueOf(e.getMessage())));
        }
        GatewayConfig current = gatewayConfig;
        boolean committed = false;
        try {
            drain(Duration.ofMillis(current.reload().drainTimeoutMs()),
                    Duration.ofMillis(current.reload().deferralTimeoutMs()), "reload");
            committed = true;
            prepared.commit();
            gatewayConfig = loaded.config().gateway();
            long gen = generation.incrementAndGet();
            applied.increment();
            target.applied(gen);
            log.info("reload applied trigger={} gen={} tookMs={}", trigger, gen, clock.nowMillis() - startedAt);
            return new ReloadOutcome(true, gen, List.of());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed.increment();
            return new ReloadOutcome(false, generation.get(), List.of("interrupted"));
        } catch (RuntimeException e) {
            failed.increment();
            log.error("reload failed while applying; running on trigger={} gen={}", trigger, generation.get(), e);
            return new ReloadOutcome(false, generation.get(), List.of(String.valueOf(e.getMessage())));
        } finally {
            try {
                if (!committed) {
                    prepared.discard();
                }
            } catch (RuntimeException e) {
                log.warn("discarding a refused reload's parts failed trigger={} reason={}", trigger, e.toString());
            } finally {
                // Whatever happened above, turns must not stay paused.
                target.clearDraining();
            }
        }
    }

    /**
     * Steps 2 to 5 of SPEC 3.3: what a reload and a stop share. Leaves the target draining; the caller
     * clears it (reload) or closes everything (stop).
     */
    void drain(Duration drainTimeout, Duration deferralTimeout, String why) throws InterruptedException {
        FlushReport flush = target.flushAllInboundDebouncers(drainTimeout);
        if (flush.flushed() > 0 || target.hasQueuedFollowups()) {
            DrainReport drained = target.waitForFollowupQueueDrain(drainTimeout);
            if (!drained.drained()) {
                log.warn("followup queues not drained before {} remaining={} timeoutMs={}", why, drained.remaining(),
                        drainTimeout.toMillis());
            }
        }
        target.markDraining();
        if (!target.awaitRunningTurns(deferralTimeout)) {
            int aborted = target.abortRunningTurns();
            log.warn("turns still running after {}ms; aborted for {} count={} (their messages run again)",
                    deferralTimeout.toMillis(), why, aborted);
        }
    }

    /**
     * Takes no more reloads and waits up to {@code timeout} for the running one to end, so a stop never
     * races a reload's commit or its resume of turns. True when no reload runs any more.
     */
    boolean stopReloads(Duration timeout) throws InterruptedException {
        reloads.shutdown();
        return reloads.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        reloads.shutdownNow();
    }
}
