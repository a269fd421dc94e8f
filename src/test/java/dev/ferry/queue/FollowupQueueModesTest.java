package dev.ferry.queue;

import static dev.ferry.queue.QueueFixture.SESSION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueConfig;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueOverride;
import dev.ferry.config.QueueSettings;
import dev.ferry.journal.Exchange;
import dev.ferry.journal.HeldDirectiveSaves;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.JournalStats;
import dev.ferry.journal.Reply;

/** SPEC 3.2: what each queue mode does with messages that find their session busy. */
class FollowupQueueModesTest {

    private static final String MAIN = "agent:main:main";

    private final QueueFixture fixture = new QueueFixture();
    private final ControlledBackend backend = fixture.backend;

    // ---- collect ----------------------------------------------------------------------------------------

    @Test
    void threeMessagesQueuedBehindARunningTurnBecomeOneTurnWithTheExactSpecPrompt() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        InboundMessage a = fixture.message("<a>");
        InboundMessage b = fixture.message("<b>");
        InboundMessage c = fixture.message("<c>");
        fixture.submit(turns, SESSION, a);
        fixture.submit(turns, SESSION, b);
        fixture.submit(turns, SESSION, c);

        backend.run(0).answer("one");
        fixture.advance(1_000);

        assertThat(backend.prompts()).containsExactly("first",
                "[Queued messages while agent was busy]\n\n---\nQueued #1\n<a>\n\n---\nQueued #2\n<b>\n\n---\nQueued #3\n<c>");
        backend.run(1).answer("all three");
        assertThat(fixture.turnReplies()).extracting(Reply::text, Reply::inReplyTo).containsExactly(
                tuple("one", List.of("m1")),
                tuple("all three", List.of(a.messageId(), b.messageId(), c.messageId())));
        assertThat(fixture.journal.pendingMessages()).isEmpty();
    }

    @Test
    void itemsArrivingDuringTheCollectTurnStayForTheNextTurn() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("a"));
        fixture.submit(turns, SESSION, fixture.message("b"));
        backend.run(0).answer("one");
        fixture.advance(1_000);

        fixture.submit(turns, SESSION, fixture.message("late"));
        assertThat(backend.runs()).hasSize(2);
        assertThat(turns.queuedItems()).isOne();
        backend.run(1).answer("two");
        fixture.advance(999);
        assertThat(backend.runs()).hasSize(2);
        fixture.advance(1);

        assertThat(backend.prompts()).containsExactly("first",
                "[Queued messages while agent was busy]\n\n---\nQueued #1\na\n\n---\nQueued #2\nb",
                "[Queued messages while agent was busy]\n\n---\nQueued #1\nlate");
    }

    @Test
    void differentDestinationsAreNotMerged() {
        // session.scope main: one session, several conversations.
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, MAIN, fixture.message("x", "first"));
        InboundMessage x1 = fixture.message("x", "x1");
        InboundMessage y1 = fixture.message("y", "y1");
        InboundMessage x2 = fixture.message("x", "x2");
        InboundMessage x3 = fixture.message("x", "x3");
        List.of(x1, y1, x2, x3).forEach(message -> fixture.submit(turns, MAIN, message));

        backend.run(0).answer("r0");
        fixture.advance(1_000);
        backend.run(1).answer("r1");
        backend.run(2).answer("r2");
        backend.run(3).answer("r3");

        assertThat(backend.prompts()).containsExactly("first",
                "[Queued messages while agent was busy]\n\n---\nQueued #1\nx1",
                "[Queued messages while agent was busy]\n\n---\nQueued #1\ny1",
                "[Queued messages while agent was busy]\n\n---\nQueued #1\nx2\n\n---\nQueued #2\nx3");
        assertThat(fixture.turnReplies()).extracting(Reply::conversation, Reply::inReplyTo).containsExactly(
                tuple("x", List.of("m1")),
                tuple("x", List.of(x1.messageId())),
                tuple("y", List.of(y1.messageId())),
                tuple("x", List.of(x2.messageId(), x3.messageId())));
    }

    @Test
    void differentThreadsOfOneConversationAreNotMerged() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.inThread("t1", "first"));
        fixture.submit(turns, SESSION, fixture.inThread("t1", "in t1"));
        fixture.submit(turns, SESSION, fixture.inThread("t2", "in t2"));

        backend.run(0).answer("r0");
        fixture.advance(1_000);
        backend.run(1).answer("r1");
        backend.run(2).answer("r2");

        assertThat(backend.prompts()).containsExactly("first",
                "[Queued messages while agent was busy]\n\n---\nQueued #1\nin t1",
                "[Queued messages while agent was busy]\n\n---\nQueued #1\nin t2");
        assertThat(fixture.turnReplies()).extracting(Reply::threadId).containsExactly("t1", "t1", "t2");
    }

    // ---- queue debounce -------------------------------------------------------------------------------------

    @Test
    void drainWaitsForQueueDebounceOfQuiet() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("a"));
        backend.run(0).answer("one");

        fixture.advance(999);
        assertThat(backend.runs()).as("less than debounceMs of quiet").hasSize(1);
        fixture.advance(1);

        assertThat(backend.runs()).hasSize(2);
    }

    @Test
    void aNewQueuedMessageRestartsTheQueueDebounce() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("a"));
        backend.run(0).answer("one");
        fixture.advance(600);

        fixture.submit(turns, SESSION, fixture.message("b"));
        fixture.advance(999);
        assertThat(backend.runs()).hasSize(1);
        fixture.advance(1);

        assertThat(backend.prompts()).containsExactly("first",
                "[Queued messages while agent was busy]\n\n---\nQueued #1\na\n\n---\nQueued #2\nb");
    }

    @Test
    void aSteadyStreamIntoABusySessionDrainsAtMaxWaitAfterTheFirstQueuedItem() {
        // The defaults: debounceMs 1000 and maxWaitMs 0, that is five windows.
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("q0"));
        backend.run(0).answer("one");

        // One message every 500 ms: the 1000 ms of quiet never comes.
        for (int i = 1; i < 10; i++) {
            fixture.advance(500);
            fixture.submit(turns, SESSION, fixture.message("q" + i));
        }
        fixture.advance(499);
        assertThat(backend.runs()).as("4999 ms after the first queued item").hasSize(1);
        fixture.advance(1);

        assertThat(backend.runs()).hasSize(2);
        assertThat(backend.prompts().get(1)).startsWith("[Queued messages while agent was busy]")
                .contains("Queued #1\nq0").contains("Queued #10\nq9").doesNotContain("Queued #11");
        assertThat(fixture.droppedMetric()).isZero();
    }

    @Test
    void theNextDrainIsBoundedFromItsOwnFirstQueuedItem() {
        TurnScheduler turns = fixture.turns(queueWithMaxWait(2_000));
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("a0"));
        backend.run(0).answer("one");
        for (int i = 1; i < 4; i++) {
            fixture.advance(500);
            fixture.submit(turns, SESSION, fixture.message("a" + i));
        }
        fixture.advance(500);
        assertThat(backend.runs()).as("drained 2000 ms after a0").hasSize(2);

        // While that turn runs the stream goes on; the bound counts from b0, not from a0 or from the turn's end.
        for (int i = 0; i < 3; i++) {
            fixture.submit(turns, SESSION, fixture.message("b" + i));
            fixture.advance(500);
        }
        backend.run(1).answer("two");
        fixture.submit(turns, SESSION, fixture.message("b3"));
        fixture.advance(499);
        assertThat(backend.runs()).as("1999 ms after b0").hasSize(2);
        fixture.advance(1);

        assertThat(backend.runs()).hasSize(3);
        assertThat(backend.prompts().get(2)).contains("Queued #1\nb0").contains("Queued #4\nb3");
    }

    @Test
    void aQueueThatWaitedMaxWaitBehindALongTurnDrainsWhenTheTurnEnds() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("slow"));
        for (int i = 0; i < 12; i++) {
            fixture.submit(turns, SESSION, fixture.message("m" + i));
            fixture.advance(500);
        }

        backend.run(0).answer("done at last");

        assertThat(backend.runs()).as("the first queued item waited 6 s already").hasSize(2);
    }

    @Test
    void maxWaitComesFromTheChannelOverrideAndTheSessionDirective() {
        QueueConfig config = new QueueConfig(QueueMode.COLLECT, 1_000, 0, 20, DropPolicy.SUMMARIZE, true,
                Map.of("webhook", new QueueOverride(null, null, null, null, 1_500L)));
        TurnScheduler turns = fixture.turns(config);
        assertThat(turns.settingsFor(SESSION, "webhook").longestWaitMs()).isEqualTo(1_500);
        assertThat(turns.settingsFor(SESSION, "telegram").longestWaitMs()).isEqualTo(5_000);

        turns.changeDirective(SESSION, stored -> new QueueOverride(null, null, null, null, 700L)).join();
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("a"));
        backend.run(0).answer("one");
        fixture.advance(400);
        fixture.submit(turns, SESSION, fixture.message("b"));
        fixture.advance(299);
        assertThat(backend.runs()).hasSize(1);
        fixture.advance(1);

        assertThat(backend.runs()).as("700 ms after a, by the session's directive").hasSize(2);
        assertThat(fixture.journal.queueDirectives().get(SESSION).maxWaitMs()).isEqualTo(700L);
    }

    @Test
    void aDirectiveThatOnlyChangesTheDebounceGetsFiveOfItsWindowsAsTheBound() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());

        turns.changeDirective(SESSION, stored -> new QueueOverride(null, 200L, null, null)).join();

        assertThat(turns.settingsFor(SESSION, "webhook").longestWaitMs()).isEqualTo(1_000);
    }

    private static QueueConfig queueWithMaxWait(long maxWaitMs) {
        return new QueueConfig(QueueMode.COLLECT, 1_000, maxWaitMs, 20, DropPolicy.SUMMARIZE, true, Map.of());
    }

    // ---- followup ----------------------------------------------------------------------------------------

    @Test
    void eachQueuedMessageIsItsOwnTurnInOrder() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 1_000, 20, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("a"));
        fixture.submit(turns, SESSION, fixture.message("b"));
        fixture.submit(turns, SESSION, fixture.message("c"));

        backend.run(0).answer("r0");
        fixture.advance(1_000);
        for (int i = 1; i <= 3; i++) {
            assertThat(backend.runs()).hasSize(i + 1);
            backend.run(i).answer("r" + i);
        }

        assertThat(backend.prompts()).containsExactly("first", "a", "b", "c");
        assertThat(fixture.turnReplies()).extracting(Reply::text).containsExactly("r0", "r1", "r2", "r3");
        assertThat(fixture.turnReplies()).extracting(Reply::inReplyTo)
                .containsExactly(List.of("m1"), List.of("m2"), List.of("m3"), List.of("m4"));
    }

    // ---- interrupt ----------------------------------------------------------------------------------------

    @Test
    void interruptAbortsTheRunningTurnRunsTheNewMessageAndRecordsTheAbortedAsSuperseded() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.INTERRUPT, 1_000, 20, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("long task"));

        InboundMessage newer = fixture.message("never mind, do this");
        fixture.submit(turns, SESSION, newer);

        assertThat(backend.run(0).aborted()).isTrue();
        assertThat(backend.prompts()).as("the new message runs without waiting for the queue debounce")
                .containsExactly("long task", "never mind, do this");
        assertThat(fixture.journal.stats().superseded()).isEqualTo(1);
        assertThat(turns.status(SESSION)).get().extracting(SessionQueueStatus::superseded).isEqualTo(1L);
        assertThat(fixture.metrics.counter("ferry.turns.superseded").count()).isEqualTo(1);

        backend.run(1).answer("done");

        assertThat(fixture.turnReplies()).extracting(Reply::text, Reply::inReplyTo)
                .containsExactly(tuple("done", List.of(newer.messageId())));
        JournalStats stats = fixture.journal.stats();
        assertThat(stats.received()).isEqualTo(2);
        assertThat(stats.done()).isEqualTo(1);
        assertThat(stats.superseded()).isEqualTo(1);
        assertThat(stats.pending()).isZero();
    }

    @Test
    void eachNewMessageInterruptsTheTurnBeforeIt() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.INTERRUPT, 1_000, 20, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("one"));
        fixture.submit(turns, SESSION, fixture.message("two"));
        fixture.submit(turns, SESSION, fixture.message("three"));

        backend.last().answer("answer three");

        assertThat(backend.prompts()).containsExactly("one", "two", "three");
        assertThat(backend.runs()).extracting(ControlledBackend.Run::aborted).containsExactly(true, true, false);
        assertThat(fixture.turnReplies()).extracting(Reply::text).containsExactly("answer three");
        assertThat(fixture.journal.stats().superseded()).isEqualTo(2);
        assertThat(fixture.journal.pendingMessages()).isEmpty();
    }

    @Test
    void interruptDuringARetryBackoffRunsTheNewMessageAtOnce() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.INTERRUPT, 1_000, 20, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("old"));
        backend.run(0).fail("model unavailable");

        fixture.submit(turns, SESSION, fixture.message("new"));

        assertThat(backend.prompts()).containsExactly("old", "new");
        fixture.advance(10_000);
        assertThat(backend.prompts()).as("the superseded turn is not started again").containsExactly("old", "new");
        assertThat(fixture.journal.stats().superseded()).isEqualTo(1);
    }

    // ---- steer -------------------------------------------------------------------------------------------

    @Test
    void steerFallsBackToFollowupWhenTheBackendCannotTakeInput() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.STEER, 1_000, 20, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("a"));
        fixture.submit(turns, SESSION, fixture.message("b"));

        backend.run(0).answer("r0");
        fixture.advance(1_000);
        backend.run(1).answer("r1");
        backend.run(2).answer("r2");

        assertThat(backend.run(0).steered()).isEmpty();
        assertThat(backend.prompts()).containsExactly("first", "a", "b");
        assertThat(fixture.turnReplies()).extracting(Reply::inReplyTo)
                .containsExactly(List.of("m1"), List.of("m2"), List.of("m3"));
        assertThat(fixture.metrics.counter("ferry.queue.steered").count()).isZero();
    }

    @Test
    void steerInjectsIntoARunningTurnThatAcceptsInput() {
        backend.takeInput(true);
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.STEER, 1_000, 20, DropPolicy.SUMMARIZE));
        InboundMessage first = fixture.message("write a poem");
        InboundMessage steer = fixture.message("about the sea");
        fixture.submit(turns, SESSION, first);

        fixture.submit(turns, SESSION, steer);

        assertThat(backend.run(0).steered()).containsExactly("about the sea");
        assertThat(turns.queuedItems()).isZero();
        backend.run(0).answer("a sea poem");
        fixture.advance(10_000);

        assertThat(backend.runs()).as("one turn").hasSize(1);
        assertThat(fixture.turnReplies()).extracting(Reply::text, Reply::inReplyTo)
                .containsExactly(tuple("a sea poem", List.of(first.messageId(), steer.messageId())));
        assertThat(fixture.journal.stats().done()).isEqualTo(2);
        assertThat(fixture.journal.pendingMessages()).isEmpty();
        assertThat(fixture.metrics.counter("ferry.queue.steered").count()).isEqualTo(1);
    }

    @Test
    void steerBacklogLetsTheTurnSeeItAndStillQueuesAFollowup() {
        backend.takeInput(true);
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.STEER_BACKLOG, 1_000, 20, DropPolicy.SUMMARIZE));
        InboundMessage first = fixture.message("write a poem");
        InboundMessage later = fixture.message("make it rhyme");
        fixture.submit(turns, SESSION, first);

        fixture.submit(turns, SESSION, later);

        assertThat(backend.run(0).steered()).containsExactly("make it rhyme");
        assertThat(turns.queuedItems()).isOne();
        backend.run(0).answer("a poem");
        fixture.advance(1_000);
        backend.run(1).answer("a rhyming poem");

        assertThat(backend.prompts()).containsExactly("write a poem", "make it rhyme");
        assertThat(fixture.turnReplies()).extracting(Reply::text, Reply::inReplyTo).containsExactly(
                tuple("a poem", List.of(first.messageId())),
                tuple("a rhyming poem", List.of(later.messageId())));
    }

    @Test
    void steerNeverJoinsAMessageForAnotherDestination() {
        backend.takeInput(true);
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.STEER, 0, 20, DropPolicy.SUMMARIZE));
        InboundMessage inX = fixture.message("x", "question in x");
        InboundMessage inY = fixture.message("y", "question in y");
        fixture.submit(turns, MAIN, inX);

        fixture.submit(turns, MAIN, inY);
        backend.run(0).answer("answer x");
        fixture.advance(0);
        backend.last().answer("answer y");

        assertThat(fixture.turnReplies()).extracting(Reply::conversation, Reply::inReplyTo).containsExactly(
                tuple("x", List.of(inX.messageId())),
                tuple("y", List.of(inY.messageId())));
    }

    @Test
    void aRetriedSteeredTurnStillSeesTheSteeredMessage() {
        backend.takeInput(true);
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.STEER, 1_000, 20, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("write a poem"));
        fixture.submit(turns, SESSION, fixture.message("about the sea"));

        backend.run(0).fail("model unavailable");
        fixture.advance(100);

        ControlledBackend.Run retry = backend.run(1);
        assertThat(retry.request().prompt() + "\n" + String.join("\n", retry.steered())).contains("about the sea");
    }

    @Test
    void aSteeredMessageIsPartOfTheSessionHistory() {
        backend.takeInput(true);
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.STEER, 1_000, 20, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("write a poem"));
        fixture.submit(turns, SESSION, fixture.message("about the sea"));

        backend.run(0).answer("a sea poem");

        assertThat(fixture.journal.transcript(SESSION, 10)).extracting(Exchange::prompt)
                .singleElement().asString().contains("about the sea");
    }

    // ---- failures ----------------------------------------------------------------------------------------

    @Test
    void failingTurnIsRetriedWithoutLosingOrReorderingQueuedItems() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("a"));
        fixture.submit(turns, SESSION, fixture.message("b"));

        backend.run(0).fail("model unavailable");
        fixture.submit(turns, SESSION, fixture.message("c"));
        fixture.advance(100);
        assertThat(backend.prompts()).containsExactly("first", "first");
        backend.run(1).answer("r-first");
        fixture.advance(1_000);
        String collected = "[Queued messages while agent was busy]\n\n---\nQueued #1\na\n\n---\nQueued #2\nb"
                + "\n\n---\nQueued #3\nc";
        backend.run(2).fail("model unavailable again");
        fixture.submit(turns, SESSION, fixture.message("d"));
        fixture.advance(100);
        backend.run(3).answer("r-abc");
        fixture.advance(1_000);
        backend.run(4).answer("r-d");

        assertThat(backend.prompts()).containsExactly("first", "first", collected, collected,
                "[Queued messages while agent was busy]\n\n---\nQueued #1\nd");
        assertThat(fixture.turnReplies()).extracting(Reply::text, Reply::inReplyTo).containsExactly(
                tuple("r-first", List.of("m1")),
                tuple("r-abc", List.of("m2", "m3", "m4")),
                tuple("r-d", List.of("m5")));
        assertThat(fixture.journal.pendingMessages()).isEmpty();
        assertThat(fixture.metrics.counter("ferry.turns.failed").count()).isEqualTo(2);
    }

    // ---- settings --------------------------------------------------------------------------------------------

    @Test
    void sessionDirectiveBeatsByChannelBeatsQueueDefaults() {
        QueueConfig config = new QueueConfig(QueueMode.COLLECT, 1_000, 0, 20, DropPolicy.SUMMARIZE, true,
                Map.of("telegram", new QueueOverride(QueueMode.FOLLOWUP, 0L, null, null)));
        TurnScheduler turns = fixture.turns(config);

        assertThat(turns.settingsFor(SESSION, "webhook"))
                .isEqualTo(new QueueSettings(QueueMode.COLLECT, 1_000, 20, DropPolicy.SUMMARIZE));
        assertThat(turns.settingsFor(SESSION, "telegram"))
                .isEqualTo(new QueueSettings(QueueMode.FOLLOWUP, 0, 20, DropPolicy.SUMMARIZE));

        turns.changeDirective(SESSION, stored -> new QueueOverride(QueueMode.INTERRUPT, null, 5, null)).join();

        assertThat(turns.settingsFor(SESSION, "telegram"))
                .isEqualTo(new QueueSettings(QueueMode.INTERRUPT, 0, 5, DropPolicy.SUMMARIZE));
        assertThat(turns.settingsFor(SESSION, "webhook"))
                .isEqualTo(new QueueSettings(QueueMode.INTERRUPT, 1_000, 5, DropPolicy.SUMMARIZE));
        assertThat(turns.settingsFor(QueueFixture.OTHER_SESSION, "webhook").mode()).isEqualTo(QueueMode.COLLECT);
        assertThat(QueueFixture.defaults().settingsFor("webhook"))
                .isEqualTo(new QueueSettings(QueueMode.COLLECT, 1_000, 20, DropPolicy.SUMMARIZE));
    }

    @Test
    void aSessionDirectiveAppliesToTheSessionsNextMessages() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        turns.changeDirective(SESSION, stored -> new QueueOverride(QueueMode.FOLLOWUP, 0L, null, null)).join();
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("a"));
        fixture.submit(turns, SESSION, fixture.message("b"));

        backend.run(0).answer("r0");
        backend.run(1).answer("r1");

        assertThat(backend.prompts()).containsExactly("first", "a", "b");
        assertThat(fixture.journal.queueDirectives().get(SESSION)).isEqualTo(new QueueOverride(QueueMode.FOLLOWUP, 0L, null, null));
    }

    @Test
    void quickDirectiveChangesBuildOnEachOtherBeforeTheJournalCommitsThem() {
        HeldDirectiveSaves slowSaves = new HeldDirectiveSaves(fixture.journal);
        TurnScheduler turns = fixture.turns(QueueFixture.defaults(), slowSaves);

        turns.changeDirective(SESSION, stored -> new QueueOverride(null, null, 3, null));
        turns.changeDirective(SESSION, stored -> stored.mergedWith(new QueueOverride(null, null, null, DropPolicy.OLD)));

        assertThat(turns.settingsFor(SESSION, "webhook").cap()).as("applies before its commit").isEqualTo(3);
        assertThat(turns.settingsFor(SESSION, "webhook").drop()).isEqualTo(DropPolicy.OLD);
        assertThat(slowSaves.saved()).as("journaled in the order made, the second building on the first").containsExactly(
                new QueueOverride(null, null, 3, null), new QueueOverride(null, null, 3, DropPolicy.OLD));
        slowSaves.commitAll();
        assertThat(fixture.journal.queueDirectives().get(SESSION)).isEqualTo(new QueueOverride(null, null, 3, DropPolicy.OLD));
    }

    @Test
    void clearingADirectiveFallsBackToTheChannelSettings() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        turns.changeDirective(SESSION, stored -> new QueueOverride(QueueMode.INTERRUPT, null, null, null)).join();

        turns.changeDirective(SESSION, stored -> null).join();

        assertThat(turns.settingsFor(SESSION, "webhook")).isEqualTo(QueueFixture.defaults().settingsFor("webhook"));
        assertThat(fixture.journal.queueDirectives().get(SESSION)).isNull();
    }

    @Test
    void aDirectiveStoredInTheJournalAppliesToANewScheduler() {
        fixture.journal.saveQueueDirective(SESSION, new QueueOverride(QueueMode.FOLLOWUP, null, null, null)).join();

        TurnScheduler turns = fixture.turns(QueueFixture.defaults());

        assertThat(turns.settingsFor(SESSION, "webhook").mode()).isEqualTo(QueueMode.FOLLOWUP);
    }

    // ---- status ----------------------------------------------------------------------------------------------

    @Test
    void statusShowsModeQueueDepthDroppedCountAndTurnRunning() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 1_000, 2, DropPolicy.OLD));
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("a"));
        fixture.submit(turns, SESSION, fixture.message("b"));
        fixture.submit(turns, SESSION, fixture.message("c"));

        assertThat(turns.snapshot()).containsExactly(new SessionQueueStatus(SESSION,
                new QueueSettings(QueueMode.FOLLOWUP, 1_000, 2, DropPolicy.OLD), 2, true, true, 1, 0));
        assertThat(turns.status(SESSION)).contains(turns.snapshot().get(0));
        assertThat(fixture.metrics.get("ferry.queue.depth").gauge().value()).isEqualTo(2);

        backend.run(0).answer("r0");

        assertThat(turns.status(SESSION)).get().extracting(SessionQueueStatus::turnRunning, SessionQueueStatus::queued)
                .containsExactly(false, 2);
        assertThat(turns.status(QueueFixture.OTHER_SESSION)).isEmpty();
    }

    @Test
    void statusShowsTheChannelsModeWhileTheQueueIsEmpty() {
        QueueConfig config = new QueueConfig(QueueMode.COLLECT, 1_000, 0, 20, DropPolicy.SUMMARIZE, true,
                Map.of("webhook", new QueueOverride(QueueMode.FOLLOWUP, null, null, null)));
        TurnScheduler turns = fixture.turns(config);
        fixture.submit(turns, SESSION, fixture.message("first"));

        assertThat(turns.status(SESSION)).get().extracting(status -> status.settings().mode())
                .isEqualTo(QueueMode.FOLLOWUP);
    }
}
