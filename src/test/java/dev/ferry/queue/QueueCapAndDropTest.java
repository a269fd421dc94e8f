package dev.ferry.queue;

import static dev.ferry.queue.QueueFixture.SESSION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueConfig;
import dev.ferry.config.QueueMode;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.JournalStats;
import dev.ferry.journal.Reply;

/** SPEC 3.2 cap and drop policy: what each policy gives up, and that nothing is dropped silently. */
class QueueCapAndDropTest {

    private final QueueFixture fixture = new QueueFixture();
    private final ControlledBackend backend = fixture.backend;

    @Test
    void aChattyConversationIntoABusySessionDrainsInTimeAndLosesNothingAtTheCap() {
        // The defaults: collect, a 1000 ms queue debounce, cap 20. A message every 500 ms, each turn 2 s.
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        Map<ControlledBackend.Run, Long> startedAt = new IdentityHashMap<>();
        int messages = 120;
        for (int i = 0; i < messages + 20; i++) {
            if (i < messages) {
                fixture.submit(turns, SESSION, fixture.message("m" + i));
            }
            fixture.advance(500);
            answerTurnsRunningFor(2_000, startedAt);
        }

        assertThat(fixture.droppedMetric()).as("dropped at the cap").isZero();
        assertThat(fixture.journal.stats().done()).isEqualTo(messages);
        assertThat(fixture.journal.pendingMessages()).isEmpty();
    }

    @Test
    void aStreamFasterThanTheCapCanHoldStillDrainsAtMaxWaitAfterItsFirstQueuedMessage() {
        // Defaults: collect, debounce 1000 ms, so at most 5000 ms; cap 20. Ten messages a second fill the cap in
        // two seconds, and from then on every new one drops the oldest: that must not move the bound.
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("queued 0"));
        backend.run(0).answer("ok");
        for (int i = 1; i < 50; i++) {
            fixture.advance(100);
            fixture.submit(turns, SESSION, fixture.message("queued " + i));
        }
        assertThat(backend.runs()).as("4.9 s after the first queued message").hasSize(1);

        fixture.advance(100);

        assertThat(backend.runs()).as("drained 5 s after the first queued message").hasSize(2);
    }

    /** Answers every run that has run for {@code millis} on the fixture's clock, noting when new ones started. */
    private void answerTurnsRunningFor(long millis, Map<ControlledBackend.Run, Long> startedAt) {
        long now = fixture.scheduler.nowMillis();
        for (ControlledBackend.Run run : backend.runs()) {
            long started = startedAt.computeIfAbsent(run, r -> now);
            if (!run.reply().isDone() && now - started >= millis) {
                run.answer("ok");
            }
        }
    }

    @Test
    void capTwoWithSummarizeBuildsTheExactOverflowHeaderAndTheHeadItemStillGetsItsTurn() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 1_000, 2, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("first"));
        for (String text : List.of("a", "b", "c", "d")) {
            fixture.submit(turns, SESSION, fixture.message(text));
        }
        assertThat(turns.queuedItems()).isEqualTo(2);

        backend.run(0).answer("r0");
        fixture.advance(1_000);
        backend.run(1).answer("r1");
        backend.run(2).answer("r2");

        assertThat(backend.prompts()).containsExactly("first",
                "[Queue overflow] Dropped 2 message(s) due to cap.\nSummary:\n- a\n- b\n\nc",
                "d");
        assertThat(fixture.turnReplies()).extracting(Reply::inReplyTo)
                .containsExactly(List.of("m1"), List.of("m4"), List.of("m5"));
        assertThat(fixture.journal.stats().dropped()).isEqualTo(2);
    }

    @Test
    void summarizeInCollectModePrefixesTheCollectPrompt() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.COLLECT, 1_000, 2, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("first"));
        for (String text : List.of("a", "b", "c")) {
            fixture.submit(turns, SESSION, fixture.message(text));
        }

        backend.run(0).answer("r0");
        fixture.advance(1_000);

        assertThat(backend.prompts()).containsExactly("first", "[Queue overflow] Dropped 1 message(s) due to cap.\n"
                + "Summary:\n- a\n\n[Queued messages while agent was busy]\n\n---\nQueued #1\nb\n\n---\nQueued #2\nc");
    }

    @Test
    void summaryKeepsAtMostCapLinesButCountsEveryDrop() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 1_000, 2, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("first"));
        for (String text : List.of("a", "b", "c", "d", "e", "f", "g")) {
            fixture.submit(turns, SESSION, fixture.message(text));
        }

        backend.run(0).answer("r0");
        fixture.advance(1_000);

        assertThat(backend.prompts()).containsExactly("first",
                "[Queue overflow] Dropped 5 message(s) due to cap.\nSummary:\n- d\n- e\n\nf");
    }

    @Test
    void summaryLineCollapsesWhitespaceAndElidesAt160Characters() {
        String longText = "  start\n\n  of\tthe   text " + "x".repeat(300);

        String line = FollowupPrompts.summaryLine(longText);

        assertThat(line).hasSize(160).endsWith("…").startsWith("start of the text xxx");
        assertThat(line.substring(0, 159)).isEqualTo(("start of the text " + "x".repeat(300)).substring(0, 159));
        assertThat(FollowupPrompts.summaryLine("y".repeat(160))).isEqualTo("y".repeat(160));
        assertThat(FollowupPrompts.summaryLine(" short \n line ")).isEqualTo("short line");
    }

    @Test
    void anElidedSummaryLineReachesTheOverflowHeader() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 1_000, 1, DropPolicy.SUMMARIZE));
        String longText = "line one\nline   two " + "z".repeat(200);
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message(longText));
        fixture.submit(turns, SESSION, fixture.message("kept"));

        backend.run(0).answer("r0");
        fixture.advance(1_000);

        String expectedLine = ("line one line two " + "z".repeat(200)).substring(0, 159) + "…";
        assertThat(backend.prompts()).last().isEqualTo(
                "[Queue overflow] Dropped 1 message(s) due to cap.\nSummary:\n- " + expectedLine + "\n\nkept");
    }

    @Test
    void overflowHeaderWithoutSummaryLinesIsOneLine() {
        assertThat(FollowupPrompts.overflowHeader(3, List.of())).isEqualTo("[Queue overflow] Dropped 3 message(s) due to cap.");
        assertThat(FollowupPrompts.withOverflow(FollowupPrompts.overflowHeader(1, List.of("x")), "prompt"))
                .isEqualTo("[Queue overflow] Dropped 1 message(s) due to cap.\nSummary:\n- x\n\nprompt");
    }

    @Test
    void oldDropsTheOldestQueuedItems() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 1_000, 2, DropPolicy.OLD));
        fixture.submit(turns, SESSION, fixture.message("first"));
        InboundMessage a = fixture.message("a");
        fixture.submit(turns, SESSION, a);
        fixture.submit(turns, SESSION, fixture.message("b"));
        fixture.submit(turns, SESSION, fixture.message("c"));

        backend.run(0).answer("r0");
        fixture.advance(1_000);
        backend.run(1).answer("r1");
        backend.run(2).answer("r2");

        assertThat(backend.prompts()).as("no overflow header with drop old").containsExactly("first", "b", "c");
        assertThat(fixture.journal.stats().dropped()).isEqualTo(1);
        assertThat(fixture.journal.pendingMessages()).isEmpty();
        assertThat(fixture.metrics.counter("ferry.queue.dropped", "reason", "queue-cap-old").count()).isEqualTo(1);
        assertThat(fixture.notices()).singleElement().extracting(Reply::conversation).isEqualTo(a.conversation());
    }

    @Test
    void newRefusesTheIncomingMessage() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 1_000, 2, DropPolicy.NEW));
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("a"));
        fixture.submit(turns, SESSION, fixture.message("b"));
        InboundMessage refused = fixture.message("c");
        fixture.submit(turns, SESSION, refused);

        backend.run(0).answer("r0");
        fixture.advance(1_000);
        backend.run(1).answer("r1");
        backend.run(2).answer("r2");

        assertThat(backend.prompts()).containsExactly("first", "a", "b");
        assertThat(fixture.journal.stats().dropped()).isEqualTo(1);
        assertThat(fixture.journal.pendingMessages()).isEmpty();
        assertThat(fixture.metrics.counter("ferry.queue.dropped", "reason", "queue-cap-new").count()).isEqualTo(1);
    }

    @Test
    void eachDropIsRecordedInTheJournalCountedAndReportedOnce() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 0, 1, DropPolicy.NEW));
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("queued"));

        fixture.submit(turns, SESSION, fixture.message("dropped 1"));
        fixture.submit(turns, SESSION, fixture.message("dropped 2"));
        fixture.submit(turns, SESSION, fixture.message("dropped 3"));

        assertThat(fixture.journal.stats().dropped()).isEqualTo(3);
        assertThat(fixture.droppedMetric()).isEqualTo(3);
        assertThat(turns.status(SESSION)).get().extracting(SessionQueueStatus::dropped).isEqualTo(3L);
        assertThat(fixture.notices()).as("one notice within the rate-limit interval").singleElement()
                .extracting(Reply::text).isEqualTo("Ferry dropped 1 message(s) from this conversation because the"
                        + " queue was full (drop policy: new).");

        fixture.scheduler.advance(DropNotices.INTERVAL.minusMillis(1));
        assertThat(fixture.notices()).hasSize(1);
        fixture.advance(1);

        assertThat(fixture.notices()).extracting(Reply::text).containsExactly(
                "Ferry dropped 1 message(s) from this conversation because the queue was full (drop policy: new).",
                "Ferry dropped 2 message(s) from this conversation because the queue was full (drop policy: new).");
        assertThat(fixture.notices()).extracting(Reply::conversation, Reply::to).containsOnly(tuple("c1", "alice"));
        fixture.scheduler.advance(DropNotices.INTERVAL.multipliedBy(3));
        assertThat(fixture.notices()).as("every dropped message is in exactly one notice").hasSize(2);

        backend.run(0).answer("r0");
        backend.run(1).answer("r1");
        JournalStats stats = fixture.journal.stats();
        assertThat(stats.received()).isEqualTo(stats.done() + stats.dropped() + stats.superseded() + stats.pending());
        assertThat(stats.pending()).isZero();
        assertThat(fixture.turnReplies()).extracting(Reply::text).containsExactly("r0", "r1");
    }

    @Test
    void aDropAfterTheIntervalIsReportedAtOnce() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 0, 1, DropPolicy.NEW));
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("queued"));
        fixture.submit(turns, SESSION, fixture.message("dropped 1"));

        fixture.scheduler.advance(DropNotices.INTERVAL);
        fixture.submit(turns, SESSION, fixture.message("dropped 2"));

        assertThat(fixture.notices()).hasSize(2);
    }

    @Test
    void dropsFromEachConversationOfASharedSessionAreReportedToThatConversation() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 0, 1, DropPolicy.NEW));
        String main = "agent:main:main";
        fixture.submit(turns, main, fixture.message("x", "first"));
        fixture.submit(turns, main, fixture.message("x", "queued"));
        fixture.submit(turns, main, fixture.message("x", "dropped in x"));
        fixture.submit(turns, main, fixture.message("y", "dropped in y"));
        fixture.submit(turns, main, fixture.message("x", "dropped in x again"));

        fixture.scheduler.advance(DropNotices.INTERVAL);

        assertThat(fixture.journal.stats().dropped()).isEqualTo(3);
        assertThat(fixture.notices()).extracting(Reply::conversation).contains("x", "y");
    }

    @Test
    void notifyDropsFalseSendsNoNotice() {
        QueueConfig quiet = new QueueConfig(QueueMode.FOLLOWUP, 0, 0, 1, DropPolicy.NEW, false, Map.of());
        TurnScheduler turns = fixture.turns(quiet);
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("queued"));
        fixture.submit(turns, SESSION, fixture.message("dropped"));

        fixture.scheduler.advance(DropNotices.INTERVAL.multipliedBy(2));

        assertThat(fixture.notices()).isEmpty();
        assertThat(fixture.journal.undeliveredReplies()).isEmpty();
        assertThat(fixture.journal.stats().dropped()).as("still journaled").isEqualTo(1);
        assertThat(fixture.droppedMetric()).as("still counted").isEqualTo(1);
    }
}
