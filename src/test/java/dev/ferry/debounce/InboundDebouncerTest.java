package dev.ferry.debounce;

import static dev.ferry.debounce.DebounceFixtures.text;
import static dev.ferry.debounce.DebounceFixtures.window;
import static dev.ferry.debounce.DebounceFixtures.withMedia;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.ferry.journal.InboundMessage;

class InboundDebouncerTest {

    private final DebounceFixtures fx = new DebounceFixtures();
    private final DebounceFixtures.Recorder recorder = new DebounceFixtures.Recorder();

    @Test
    void combinesABurstIntoOneBatchInArrivalOrder() {
        var debouncer = fx.debouncer(window(300), recorder);

        debouncer.submit(text("c", "ann", "one"));
        fx.clock.advance(Duration.ofMillis(100));
        debouncer.submit(text("c", "ann", "two"));
        fx.clock.advance(Duration.ofMillis(100));
        debouncer.submit(text("c", "ann", "three"));
        assertThat(recorder.batches()).isEmpty();

        fx.clock.advance(Duration.ofMillis(300));

        assertThat(recorder.texts()).containsExactly(List.of("one", "two", "three"));
        InboundBatch batch = recorder.batches().get(0);
        assertThat(batch.reason()).isEqualTo(FlushReason.TIMER);
        assertThat(batch.messages()).extracting(InboundMessage::messageId).hasSize(3).doesNotHaveDuplicates();
        assertThat(batch.lastMessage().text()).isEqualTo("three");
    }

    @Test
    void restartsTheWindowOnEachMessage() {
        var debouncer = fx.debouncer(window(300), recorder);

        debouncer.submit(text("c", "ann", "one"));
        fx.clock.advance(Duration.ofMillis(250));
        debouncer.submit(text("c", "ann", "two"));
        fx.clock.advance(Duration.ofMillis(250));
        assertThat(recorder.batches()).as("the second message restarted the window").isEmpty();

        fx.clock.advance(Duration.ofMillis(50));

        assertThat(recorder.texts()).containsExactly(List.of("one", "two"));
    }

    @Test
    void aBurstKeepsOneTimerThatFollowsTheLatestMessage() {
        var debouncer = fx.debouncer(new DebounceSettings(Duration.ofMillis(300), Duration.ofMinutes(1), 1_000, 2048),
                recorder);

        for (int i = 0; i < 100; i++) {
            debouncer.submit(text("c", "ann", "m" + i));
            fx.clock.advance(Duration.ofMillis(10));
        }
        // Set at t=0 for 300, then re-armed when it fires early: at 300 for 590, at 590 for 880, at 880 for 1170.
        assertThat(fx.clock.scheduledCount()).as("timers set for a burst of 100").isEqualTo(4);
        // The last message came at t=990: its window ends at 1290, whatever the timer set at t=0 said.
        fx.clock.advance(Duration.ofMillis(289));
        assertThat(recorder.batches()).isEmpty();

        fx.clock.advance(Duration.ofMillis(1));

        assertThat(recorder.texts()).hasSize(1);
        assertThat(recorder.texts().get(0)).hasSize(100);
        assertThat(recorder.batches().get(0).reason()).isEqualTo(FlushReason.TIMER);
        assertThat(fx.clock.scheduledCount()).as("and once more at 1170 for 1290").isEqualTo(5);
        assertThat(fx.clock.pendingTasks()).isZero();
    }

    @Test
    void aTimerCancelledTooLateNeitherFlushesNorStartsASecondChain() {
        var debouncer = fx.debouncer(new DebounceSettings(Duration.ofMillis(300), Duration.ofMinutes(1), 1_000, 2048),
                recorder, fx.cancelsTooLate());
        debouncer.submit(text("c", "ann", "m1"));                      // timer for 300
        debouncer.useSettings(new DebounceSettings(Duration.ofMillis(100), Duration.ofMinutes(1), 1_000, 2048));
        fx.clock.advance(Duration.ofMillis(10));
        debouncer.submit(text("c", "ann", "m2"));                      // due 110: cancelled for 300, set for 110
        for (int at = 100; at <= 280; at += 90) {
            fx.clock.advance(Duration.ofMillis(at - fx.clock.nowMillis()));
            debouncer.submit(text("c", "ann", "m@" + at));             // due at+100; re-armed at 110, 200, 290
        }
        fx.clock.advance(Duration.ofMillis(300 - fx.clock.nowMillis()));

        assertThat(recorder.batches()).as("the stale timer for 300 fired and did nothing").isEmpty();
        assertThat(fx.clock.pendingTasks()).as("one live timer, for 380").isEqualTo(1);
        fx.clock.advance(Duration.ofMillis(80));
        assertThat(recorder.texts()).containsExactly(List.of("m1", "m2", "m@100", "m@190", "m@280"));
    }

    @Test
    void aWindowTurnedOffSendsWhatIsStillBufferedFirst() {
        var debouncer = fx.debouncer(window(300), recorder);
        debouncer.submit(text("c", "ann", "buffered"));

        debouncer.useSettings(window(0));
        debouncer.submit(text("c", "ann", "after"));

        assertThat(recorder.texts()).containsExactly(List.of("buffered"), List.of("after"));
        assertThat(fx.clock.pendingTasks()).isZero();
    }

    @Test
    void flushesAtMaxWaitUnderASteadyStream() {
        var settings = new DebounceSettings(Duration.ofMillis(300), Duration.ofMillis(1000), 50, 2048);
        var debouncer = fx.debouncer(settings, recorder);

        // A message every 200 ms never lets the 300 ms window close.
        for (int i = 0; i < 5; i++) {
            debouncer.submit(text("c", "ann", "m" + i));
            fx.clock.advance(Duration.ofMillis(200));
        }
        // t=1000: the fifth message came at 800 and its window would end at 1100; max-wait ends it now.

        assertThat(recorder.texts()).containsExactly(List.of("m0", "m1", "m2", "m3", "m4"));
        assertThat(recorder.batches().get(0).reason()).isEqualTo(FlushReason.MAX_WAIT);
    }

    @Test
    void flushesAtMaxBatch() {
        var settings = new DebounceSettings(Duration.ofMillis(300), Duration.ofMillis(1500), 3, 2048);
        var debouncer = fx.debouncer(settings, recorder);

        debouncer.submit(text("c", "ann", "a"));
        debouncer.submit(text("c", "ann", "b"));
        debouncer.submit(text("c", "ann", "c"));
        debouncer.submit(text("c", "ann", "d"));

        assertThat(recorder.texts()).containsExactly(List.of("a", "b", "c"));
        assertThat(recorder.batches().get(0).reason()).isEqualTo(FlushReason.MAX_BATCH);
        fx.clock.advance(Duration.ofMillis(300));
        assertThat(recorder.texts()).containsExactly(List.of("a", "b", "c"), List.of("d"));
    }

    @Test
    void commandFlushesThePendingBatchFirstThenItself() {
        var debouncer = fx.debouncer(window(300), recorder);

        debouncer.submit(text("c", "ann", "hello"));
        debouncer.submit(text("c", "ann", "there"));
        debouncer.submit(text("c", "ann", "/status"));

        assertThat(recorder.texts()).containsExactly(List.of("hello", "there"), List.of("/status"));
        assertThat(recorder.batches()).extracting(InboundBatch::reason).containsOnly(FlushReason.BYPASS);
        assertThat(fx.clock.pendingTasks()).as("the flushed key's timer is cancelled").isZero();
    }

    @Test
    void mediaMessageAndEmptyTextFlushThePendingBatchFirstThenThemselves() {
        var debouncer = fx.debouncer(window(300), recorder);

        debouncer.submit(text("c", "ann", "look"));
        debouncer.submit(withMedia("c", "ann", "photo"));
        debouncer.submit(text("c", "ann", "and"));
        debouncer.submit(text("c", "ann", "   "));

        assertThat(recorder.texts()).containsExactly(List.of("look"), List.of("photo"), List.of("and"), List.of("   "));
    }

    @Test
    void slashTextThatIsNoCommandIsDebouncedLikeAnyText() {
        var debouncer = fx.debouncer(window(300), recorder);

        debouncer.submit(text("c", "ann", "/shrug"));
        debouncer.submit(text("c", "ann", "ok"));
        fx.clock.advance(Duration.ofMillis(300));

        assertThat(recorder.texts()).containsExactly(List.of("/shrug", "ok"));
    }

    @Test
    void bypassRuleItIsHandedDecidesWhatGoesAtOnceBesidesMediaAndEmptyText() {
        var debouncer = new InboundDebouncer("webhook", window(300), message -> message.text().startsWith("!"),
                recorder, fx.clock, DebounceFixtures.RETRY, fx.registry, fx.metrics);

        debouncer.submit(text("c", "ann", "hello"));
        debouncer.submit(text("c", "ann", "/status"));
        debouncer.submit(text("c", "ann", "!now"));

        assertThat(recorder.texts()).as("without the command rule a command waits like any text")
                .containsExactly(List.of("hello", "/status"), List.of("!now"));
        assertThat(recorder.batches()).extracting(InboundBatch::reason).containsOnly(FlushReason.BYPASS);
    }

    @Test
    void windowZeroDeliversEachMessageAtOnce() {
        var debouncer = fx.debouncer(window(0), recorder);

        debouncer.submit(text("c", "ann", "one"));
        debouncer.submit(text("c", "ann", "two"));

        assertThat(recorder.texts()).containsExactly(List.of("one"), List.of("two"));
        assertThat(fx.clock.pendingTasks()).isZero();
    }

    @Test
    void laterSameKeyItemNeverOvertakesABatchWhoseFlushAlreadyStarted() throws Exception {
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        List<String> handedOn = Collections.synchronizedList(new ArrayList<>());
        var debouncer = fx.debouncer(window(300), batch -> {
            if (batch.messages().get(0).text().equals("first")) {
                firstStarted.countDown();
                releaseFirst.await(5, TimeUnit.SECONDS);
            }
            batch.messages().forEach(m -> handedOn.add(m.text()));
        });
        debouncer.submit(text("c", "ann", "first"));
        Thread timer = new Thread(() -> fx.clock.advance(Duration.ofMillis(300)));
        timer.start();
        assertThat(firstStarted.await(5, TimeUnit.SECONDS)).isTrue();

        // The first batch is mid-hand-off on the timer thread; a bypassing command must queue behind it.
        debouncer.submit(text("c", "ann", "/stop"));
        assertThat(handedOn).isEmpty();
        releaseFirst.countDown();
        timer.join(5_000);

        assertThat(handedOn).containsExactly("first", "/stop");
    }

    @Test
    void distinctKeysDoNotWaitForEachOther() throws Exception {
        CountDownLatch annStarted = new CountDownLatch(1);
        CountDownLatch releaseAnn = new CountDownLatch(1);
        List<String> handedOn = Collections.synchronizedList(new ArrayList<>());
        var debouncer = fx.debouncer(window(0), batch -> {
            if (batch.lastMessage().sender().equals("ann")) {
                annStarted.countDown();
                releaseAnn.await(5, TimeUnit.SECONDS);
            }
            handedOn.add(batch.lastMessage().text());
        });
        Thread ann = new Thread(() -> debouncer.submit(text("c", "ann", "slow")));
        ann.start();
        assertThat(annStarted.await(5, TimeUnit.SECONDS)).isTrue();

        debouncer.submit(text("c", "bob", "fast"));

        assertThat(handedOn).containsExactly("fast");
        releaseAnn.countDown();
        ann.join(5_000);
        assertThat(handedOn).containsExactly("fast", "slow");
    }

    @Test
    void trackedKeyCapFallsBackToImmediateDeliveryInOrder() {
        var settings = new DebounceSettings(Duration.ofMillis(300), Duration.ofMillis(1500), 50, 2);
        var debouncer = fx.debouncer(settings, recorder);

        debouncer.submit(text("c", "ann", "a1"));
        debouncer.submit(text("c", "bob", "b1"));
        debouncer.submit(text("c", "cat", "c1"));
        debouncer.submit(text("c", "cat", "c2"));

        assertThat(recorder.texts()).containsExactly(List.of("c1"), List.of("c2"));
        assertThat(recorder.batches()).extracting(InboundBatch::reason).containsOnly(FlushReason.IMMEDIATE);
        assertThat(debouncer.bufferedKeys()).isEqualTo(2);
        fx.clock.advance(Duration.ofMillis(300));
        assertThat(recorder.texts()).containsExactly(List.of("c1"), List.of("c2"), List.of("a1"), List.of("b1"));
    }

    @Test
    void failingDeliveryIsRetriedAndTheBatchIsDeliveredOnceItSucceeds() {
        AtomicInteger attempts = new AtomicInteger();
        var debouncer = fx.debouncer(window(300), batch -> {
            if (attempts.incrementAndGet() <= 2) {
                throw new IllegalStateException("session router unavailable");
            }
            recorder.deliver(batch);
        });

        debouncer.submit(text("c", "ann", "keep me"));
        debouncer.submit(text("c", "ann", "me too"));
        fx.clock.advance(Duration.ofMillis(300));
        assertThat(recorder.batches()).isEmpty();
        debouncer.submit(text("c", "ann", "/status"));
        assertThat(debouncer.undeliveredBatches()).as("the command waits behind the failing batch").isEqualTo(2);

        fx.clock.advance(Duration.ofMillis(100 + 200));

        assertThat(attempts.get()).isEqualTo(4);
        assertThat(recorder.texts()).containsExactly(List.of("keep me", "me too"), List.of("/status"));
        assertThat(debouncer.undeliveredBatches()).isZero();
    }

    @Test
    void flushAllFlushesEveryKeyOfOneDebouncerAndContinuesPastAFailingKey() {
        var debouncer = fx.debouncer(window(300), batch -> {
            if (batch.lastMessage().sender().equals("bob")) {
                throw new IllegalStateException("bob's session is broken");
            }
            recorder.deliver(batch);
        });
        debouncer.submit(text("c", "ann", "a"));
        debouncer.submit(text("c", "bob", "b"));
        debouncer.submit(text("d", "cat", "c"));

        int flushed = debouncer.flushAll();

        assertThat(flushed).isEqualTo(3);
        assertThat(recorder.texts()).containsExactlyInAnyOrder(List.of("a"), List.of("c"));
        assertThat(recorder.batches()).extracting(InboundBatch::reason).containsOnly(FlushReason.FLUSH_ALL);
        assertThat(debouncer.bufferedKeys()).isZero();
        assertThat(debouncer.undeliveredBatches()).as("bob's batch waits for its retry, not dropped").isEqualTo(1);
    }

    @Test
    void flushesAreCountedByReason() {
        var debouncer = fx.debouncer(window(300), recorder);

        debouncer.submit(text("c", "ann", "x"));
        fx.clock.advance(Duration.ofMillis(300));
        debouncer.submit(text("c", "ann", "/new"));

        assertThat(fx.metrics.get("ferry.debounce.flushes").tag("reason", "timer").counter().count()).isEqualTo(1);
        assertThat(fx.metrics.get("ferry.debounce.flushes").tag("reason", "bypass").counter().count()).isEqualTo(1);
    }
}
