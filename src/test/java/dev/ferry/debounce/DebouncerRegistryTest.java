package dev.ferry.debounce;

import static dev.ferry.debounce.DebounceFixtures.text;
import static dev.ferry.debounce.DebounceFixtures.window;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

class DebouncerRegistryTest {

    private final DebounceFixtures fx = new DebounceFixtures();

    @Test
    void flushesSeveralDebouncersBeforeTheirTimersAndCountsTheBuffersDelivered() throws Exception {
        var webhook = new DebounceFixtures.Recorder();
        var telegram = new DebounceFixtures.Recorder();
        var first = fx.debouncer(window(5_000), webhook);
        var second = fx.debouncer(window(5_000), telegram);
        first.submit(text("c", "ann", "a1"));
        first.submit(text("c", "ann", "a2"));
        first.submit(text("c", "bob", "b1"));
        second.submit(text("d", "cat", "c1"));

        FlushReport report = fx.registry.flushAllInboundDebouncers(Duration.ofSeconds(1));

        assertThat(report).isEqualTo(new FlushReport(true, 3, 0));
        assertThat(webhook.texts()).containsExactlyInAnyOrder(List.of("a1", "a2"), List.of("b1"));
        assertThat(telegram.texts()).containsExactly(List.of("c1"));
        assertThat(fx.clock.nowMillis()).as("no time passed: the timers did not fire").isZero();
    }

    @Test
    void returnsZeroWhenNothingIsRegistered() throws Exception {
        assertThat(fx.registry.flushAllInboundDebouncers(Duration.ofSeconds(1))).isEqualTo(new FlushReport(true, 0, 0));
    }

    @Test
    void returnsZeroWhenNothingIsBuffered() throws Exception {
        fx.debouncer(window(300), new DebounceFixtures.Recorder());
        fx.debouncer(window(0), new DebounceFixtures.Recorder());

        assertThat(fx.registry.flushAllInboundDebouncers(Duration.ofSeconds(1))).isEqualTo(new FlushReport(true, 0, 0));
    }

    @Test
    void keepsFlushingUntilNoBufferedKeysRemain() throws Exception {
        var end = new DebounceFixtures.Recorder();
        var downstream = fx.debouncer(window(5_000), end);
        // The upstream debouncer's hand-off buffers new work in the downstream one.
        var upstream = fx.debouncer(window(5_000), batch -> batch.messages().forEach(downstream::submit));
        upstream.submit(text("c", "ann", "relay me"));

        FlushReport report = fx.registry.flushAllInboundDebouncers(Duration.ofSeconds(1));

        assertThat(report.drained()).isTrue();
        assertThat(report.flushed()).isEqualTo(2);
        assertThat(end.texts()).containsExactly(List.of("relay me"));
        assertThat(fx.registry.bufferedKeys()).isZero();
    }

    @Test
    void stopsAtItsTimeoutAndReportsRemaining() throws Exception {
        var stuck = fx.debouncer(window(5_000), batch -> {
            throw new IllegalStateException("never accepts");
        });
        stuck.submit(text("c", "ann", "a"));
        stuck.submit(text("c", "bob", "b"));

        long started = fx.clock.nowMillis();
        CompletableFuture<FlushReport> flush = CompletableFuture.supplyAsync(() -> {
            try {
                return fx.registry.flushAllInboundDebouncers(Duration.ofMillis(100));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        CompletableFuture<Long> endedAt = flush.thenApply(report -> fx.clock.nowMillis());
        // Time moves only here: the flush can end only by its limit, since the stuck batch never goes.
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            fx.clock.advance(Duration.ofMillis(10));
            return flush.isDone();
        });

        assertThat(flush.get()).isEqualTo(new FlushReport(false, 2, 2));
        assertThat(endedAt.get() - started).as("ended at its limit on the clock, not before").isGreaterThanOrEqualTo(100);
    }

    @Test
    void flushThatKeepsProducingBufferedWorkStopsAfterAHundredPasses() throws Exception {
        AtomicReference<InboundDebouncer> self = new AtomicReference<>();
        // Every hand-off buffers a fresh message, so each pass leaves new work behind.
        var echoing = fx.debouncer(window(5_000), batch -> self.get().submit(text("c", "ann", "again")));
        self.set(echoing);
        echoing.submit(text("c", "ann", "start"));

        FlushReport report = fx.registry.flushAllInboundDebouncers(Duration.ofSeconds(10));

        assertThat(report.flushed()).isEqualTo(DebouncerRegistry.MAX_PASSES);
        assertThat(report.remaining()).isEqualTo(1);
        assertThat(report.drained()).isFalse();
    }

    @Test
    void closedDebouncerIsNoLongerFlushedGlobally() throws Exception {
        var recorder = new DebounceFixtures.Recorder();
        var debouncer = fx.debouncer(window(5_000), recorder);
        debouncer.submit(text("c", "ann", "before close"));

        debouncer.close();

        assertThat(recorder.texts()).as("closing flushes what it held").containsExactly(List.of("before close"));
        assertThat(fx.registry.size()).isZero();
        debouncer.submit(text("c", "ann", "after close"));
        assertThat(recorder.texts()).as("a late message passes straight through")
                .containsExactly(List.of("before close"), List.of("after close"));
        assertThat(fx.registry.flushAllInboundDebouncers(Duration.ofSeconds(1))).isEqualTo(new FlushReport(true, 0, 0));
    }

    @Test
    void everyDebouncerJoinsTheRegistryWhenCreated() {
        fx.debouncer(window(300), new DebounceFixtures.Recorder());
        fx.debouncer(window(300), new DebounceFixtures.Recorder());

        assertThat(fx.registry.size()).isEqualTo(2);
    }
}
