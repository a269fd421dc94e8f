package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.control.ReloadOutcome;
import dev.ferry.config.ConfigException;
import dev.ferry.config.ConfigLoader;
import dev.ferry.config.FerryConfig;
import dev.ferry.config.GatewayConfig;
import dev.ferry.config.LoadedConfig;
import dev.ferry.debounce.FlushReport;
import dev.ferry.queue.DrainReport;
import dev.ferry.testing.Fifos;
import dev.ferry.time.ManualScheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The reload sequence of SPEC 3.3, step by step, against a target that records what it was asked to do. */
class ReloadSequencerTest {

    private static final long WAIT_SECONDS = 5;

    private final GatewayConfig gatewayConfig = FerryConfig.defaults().gateway();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private RecordingTarget target;
    private LoadedConfig validConfig;
    private ReloadSequencer loop;

    @BeforeEach
    void setUp() throws Exception {
        target = new RecordingTarget();
        validConfig = ConfigLoader.parse("{}", null);
    }

    @AfterEach
    void tearDown() {
        if (loop != null) {
            loop.close();
        }
    }

    private ReloadSequencer loop(Callable<LoadedConfig> loader) {
        loop = new ReloadSequencer(target, loader, gatewayConfig, metrics, new ManualScheduler());
        return loop;
    }

    private ReloadSequencer loop() {
        return loop(() -> validConfig);
    }

    private static ReloadOutcome await(CompletableFuture<ReloadOutcome> outcome) throws Exception {
        return outcome.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void flushesInboundDebouncersBeforeMarkingTheGatewayDraining() throws Exception {
        target.flushReport = new FlushReport(true, 2, 0);

        ReloadOutcome outcome = await(loop().requestReload("test"));

        assertThat(outcome.applied()).isTrue();
        assertThat(target.steps()).containsExactly("prepare",
                "flushAllInboundDebouncers", "waitForFollowupQueueDrain", "markDraining", "awaitRunningTurns",
                "apply", "clearDraining");
    }

    @Test
    void skipsTheFollowupWaitWhenNothingWasBuffered() throws Exception {
        target.flushReport = new FlushReport(true, 0, 0);
        target.queuedFollowups = false;

        ReloadOutcome outcome = await(loop().requestReload("test"));

        assertThat(outcome.applied()).isTrue();
        assertThat(target.steps()).containsExactly("prepare",
                "flushAllInboundDebouncers", "markDraining", "awaitRunningTurns", "apply", "clearDraining");
    }

    @Test
    void waitsForFollowupsWhenQueuesHoldItemsEvenIfNothingWasFlushed() throws Exception {
        target.flushReport = new FlushReport(true, 0, 0);
        target.queuedFollowups = true;

        ReloadOutcome outcome = await(loop().requestReload("test"));

        assertThat(outcome.applied()).isTrue();
        assertThat(target.steps()).containsExactly("prepare",
                "flushAllInboundDebouncers", "waitForFollowupQueueDrain", "markDraining", "awaitRunningTurns",
                "apply", "clearDraining");
    }

    @Test
    void drainTimeoutLogsAWarningNamingTheRemainingCount() throws Exception {
        target.flushReport = new FlushReport(true, 1, 0);
        target.drainReport = new DrainReport(false, 7);

        List<String> warnings = logged(Level.WARN, () -> assertThat(await(loop().requestReload("test")).applied()).isTrue());

        assertThat(warnings).anySatisfy(message -> assertThat(message).contains("remaining=7"));
        // The timeout is a warning, not a failure: the reload still ran to the end.
        assertThat(target.steps()).containsSubsequence("waitForFollowupQueueDrain", "markDraining", "apply",
                "clearDraining");
    }

    @Test
    void aMissingEmptyOrFifoConfigFileIsARefusedReloadThatChangesNothing(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ferry.json5");
        ReloadSequencer loop = loop(() -> ConfigLoader.reload(file));
        Map<String, ThrowingRunnable> damage = new LinkedHashMap<>();
        damage.put("does not exist", () -> Files.deleteIfExists(file));
        damage.put("is empty", () -> Files.writeString(file, ""));
        damage.put("is empty (only blanks or comments", () -> Files.writeString(file, "// truncated by an editor\n"));
        damage.put("not a regular file", () -> {
            Files.deleteIfExists(file);
            Fifos.make(file);
        });
        int refused = 0;
        for (Map.Entry<String, ThrowingRunnable> entry : damage.entrySet()) {
            entry.getValue().run();

            // A FIFO opened for reading would block the reload thread for ever: the bounded wait catches it.
            List<String> errors = logged(Level.ERROR, () -> {
                ReloadOutcome outcome = await(loop.requestReload("SIGUSR1"));
                assertThat(outcome.applied()).isFalse();
                assertThat(outcome.generation()).isEqualTo(1);
                assertThat(outcome.errors()).singleElement().asString().startsWith(file + ": ").contains(entry.getKey());
            });

            refused++;
            assertThat(errors).as(entry.getKey()).singleElement().asString()
                    .contains("reload refused").contains(file.toString()).contains(entry.getKey());
            assertThat(target.steps()).as("nothing drained or applied").isEmpty();
            assertThat(loop.generation()).isEqualTo(1);
            assertThat(metrics.get("ferry.reloads").tag("result", "failed").counter().count()).isEqualTo(refused);
        }
    }

    /** Something a test sets up that may fail with any exception. */
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Runs {@code action} and returns what ReloadSequencer logged at {@code level} meanwhile, formatted. */
    private static List<String> logged(Level level, ThrowingRunnable action) throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(ReloadSequencer.class);
        Level levelBefore = logger.getLevel();
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(level);
        try {
            action.run();
        } finally {
            logger.detachAppender(appender);
            logger.setLevel(levelBefore);
            appender.stop();
        }
        synchronized (appender.list) {
            return appender.list.stream().filter(event -> event.getLevel() == level)
                    .map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    @Test
    void turnsStillRunningAfterTheDeferralAreAbortedAndTheReloadStillApplies() throws Exception {
        target.runningTurnsFinished = false;
        target.abortedTurns = 2;

        ReloadOutcome outcome = await(loop().requestReload("test"));

        assertThat(outcome.applied()).isTrue();
        assertThat(outcome.generation()).isEqualTo(2);
        assertThat(target.steps()).containsExactly("prepare",
                "flushAllInboundDebouncers", "markDraining", "awaitRunningTurns", "abortRunningTurns", "apply",
                "clearDraining");
        assertThat(target.awaitedTimeouts).containsExactly(Duration.ofMillis(gatewayConfig.reload().deferralTimeoutMs()));
    }

    @Test
    void invalidConfigurationChangesNothingAndReportsTheErrors() throws Exception {
        String error = "messages.queue.cap: must be >= 1, got 0";
        ReloadSequencer loop = loop(() -> {
            throw new ConfigException(List.of(error));
        });

        ReloadOutcome outcome = await(loop.requestReload("test"));

        assertThat(outcome.applied()).isFalse();
        assertThat(outcome.errors()).containsExactly(error);
        assertThat(outcome.generation()).isEqualTo(1);
        assertThat(loop.generation()).isEqualTo(1);
        assertThat(target.steps()).isEmpty();
        assertThat(metrics.get("ferry.reloads").tag("result", "failed").counter().count()).isEqualTo(1.0);
        assertThat(metrics.get("ferry.reloads").tag("result", "applied").counter().count()).isZero();
    }

    @Test
    void reloadsRequestedDuringAReloadCoalesceIntoExactlyOneMore() throws Exception {
        CountDownLatch firstApplyEntered = new CountDownLatch(1);
        CountDownLatch releaseFirstApply = new CountDownLatch(1);
        AtomicInteger applies = new AtomicInteger();
        target.onApply = next -> {
            if (applies.incrementAndGet() == 1) {
                firstApplyEntered.countDown();
                awaitUninterruptibly(releaseFirstApply);
            }
        };
        ReloadSequencer loop = loop();

        CompletableFuture<ReloadOutcome> first = loop.requestReload("first");
        assertThat(firstApplyEntered.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        List<CompletableFuture<ReloadOutcome>> during = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            during.add(loop.requestReload("during-" + i));
        }
        assertThat(during).allSatisfy(future -> assertThat(future).isSameAs(during.get(0)));
        assertThat(during.get(0)).isNotSameAs(first).isNotDone();
        releaseFirstApply.countDown();

        ReloadOutcome firstOutcome = await(first);
        ReloadOutcome coalesced = await(during.get(0));

        assertThat(firstOutcome.applied()).isTrue();
        assertThat(firstOutcome.generation()).isEqualTo(2);
        assertThat(coalesced.applied()).isTrue();
        assertThat(coalesced.generation()).isEqualTo(3);
        assertThat(applies.get()).isEqualTo(2);
        assertThat(target.steps()).filteredOn("apply"::equals).hasSize(2);
        assertThat(loop.generation()).isEqualTo(3);
    }

    @Test
    void eachAppliedReloadAdvancesTheGeneration() throws Exception {
        ReloadSequencer loop = loop();
        assertThat(loop.generation()).isEqualTo(1);

        assertThat(await(loop.requestReload("one")).generation()).isEqualTo(2);
        assertThat(await(loop.requestReload("two")).generation()).isEqualTo(3);
        assertThat(await(loop.requestReload("three")).generation()).isEqualTo(4);

        assertThat(loop.generation()).isEqualTo(4);
        assertThat(metrics.get("ferry.reloads").tag("result", "applied").counter().count()).isEqualTo(3.0);
    }

    @Test
    void drainingIsClearedEvenWhenApplyFails() throws Exception {
        target.onApply = next -> {
            throw new IllegalStateException("cannot bind 127.0.0.1:1");
        };
        ReloadSequencer loop = loop();

        ReloadOutcome outcome = await(loop.requestReload("test"));

        assertThat(outcome.applied()).isFalse();
        assertThat(outcome.errors()).anySatisfy(error -> assertThat(error).contains("cannot bind 127.0.0.1:1"));
        assertThat(outcome.generation()).isEqualTo(1);
        assertThat(loop.generation()).isEqualTo(1);
        assertThat(target.steps()).containsSubsequence("markDraining", "apply", "clearDraining");
        assertThat(target.steps()).last().isEqualTo("clearDraining");
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        try {
            if (!latch.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("latch not released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aReloadWhoseDiscardFailsStillResumesTurnsAndTheNextReloadRuns() throws Exception {
        target.markDrainingFails = new IllegalStateException("the drain broke");
        target.discardFails = new IllegalStateException("and so did the discard");
        ReloadSequencer sequencer = loop();

        ReloadOutcome broken = await(sequencer.requestReload("test"));

        assertThat(broken.applied()).isFalse();
        assertThat(target.steps()).endsWith("discard", "clearDraining");
        target.markDrainingFails = null;
        target.discardFails = null;
        assertThat(await(sequencer.requestReload("test")).applied()).isTrue();
    }

    /** Records every step with an effect, in call order; queries ({@code hasQueuedFollowups}) are not steps. */
    private static final class RecordingTarget implements ReloadTarget {
        private final List<String> steps = new ArrayList<>();
        final List<Duration> awaitedTimeouts = new ArrayList<>();
        volatile FlushReport flushReport = new FlushReport(true, 0, 0);
        volatile boolean queuedFollowups;
        volatile DrainReport drainReport = new DrainReport(true, 0);
        volatile boolean runningTurnsFinished = true;
        volatile int abortedTurns;
        volatile Consumer<LoadedConfig> onApply = next -> { };
        volatile RuntimeException markDrainingFails;
        volatile RuntimeException discardFails;

        List<String> steps() {
            synchronized (steps) {
                return List.copyOf(steps);
            }
        }

        private void record(String step) {
            synchronized (steps) {
                steps.add(step);
            }
        }

        @Override
        public FlushReport flushAllInboundDebouncers(Duration timeout) {
            record("flushAllInboundDebouncers");
            return flushReport;
        }

        @Override
        public boolean hasQueuedFollowups() {
            return queuedFollowups;
        }

        @Override
        public DrainReport waitForFollowupQueueDrain(Duration timeout) {
            record("waitForFollowupQueueDrain");
            return drainReport;
        }

        @Override
        public void markDraining() {
            record("markDraining");
            if (markDrainingFails != null) {
                throw markDrainingFails;
            }
        }

        @Override
        public boolean awaitRunningTurns(Duration timeout) {
            record("awaitRunningTurns");
            synchronized (awaitedTimeouts) {
                awaitedTimeouts.add(timeout);
            }
            return runningTurnsFinished;
        }

        @Override
        public int abortRunningTurns() {
            record("abortRunningTurns");
            return abortedTurns;
        }

        /** Preparing is recorded as a step of its own; the commit is recorded as SPEC's apply. */
        @Override
        public PreparedReload prepare(LoadedConfig next) {
            record("prepare");
            return new PreparedReload() {
                @Override
                public void commit() {
                    record("apply");
                    onApply.accept(next);
                }

                @Override
                public void discard() {
                    record("discard");
                    if (discardFails != null) {
                        throw discardFails;
                    }
                }
            };
        }

        @Override
        public void clearDraining() {
            record("clearDraining");
        }
    }
}
