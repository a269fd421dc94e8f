package dev.ferry.queue;

import static dev.ferry.journal.TestMessages.inbound;
import static dev.ferry.journal.TestMessages.journaled;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import dev.ferry.agent.AgentFailure;
import dev.ferry.agent.AgentRequest;
import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueConfig;
import dev.ferry.config.QueueMode;
import dev.ferry.delivery.Outbox;
import dev.ferry.events.GatewayEvents;
import dev.ferry.delivery.SendOutcome;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.journal.Exchange;
import dev.ferry.journal.ForwardingJournal;
import dev.ferry.journal.InMemoryJournal;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalUnavailableException;
import dev.ferry.journal.Reply;
import dev.ferry.journal.Turn;
import dev.ferry.time.ManualScheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

class TurnSchedulerTest {

    private static final String A = "agent:main:webhook:default:a";
    private static final String B = "agent:main:webhook:default:b";
    private static final String C = "agent:main:webhook:default:c";
    /** Each batch that finds its session busy runs as its own turn as soon as the current one ends. */
    private static final QueueConfig IMMEDIATE_FOLLOWUP =
            new QueueConfig(QueueMode.FOLLOWUP, 0, 0, 20, DropPolicy.SUMMARIZE, true, Map.of());

    private final RecordingJournal journal = new RecordingJournal(new InMemoryJournal());
    private final ManualScheduler scheduler = new ManualScheduler();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final ControlledBackend backend = new ControlledBackend();
    private final List<Reply> delivered = Collections.synchronizedList(new ArrayList<>());
    private final Outbox outbox = new Outbox(journal, scheduler, RetryPolicy.DEFAULT, metrics);
    private int messageIds;

    TurnSchedulerTest() {
        outbox.useTransport("webhook", reply -> {
            delivered.add(reply);
            return CompletableFuture.completedFuture(SendOutcome.DELIVERED);
        }, 16);
    }

    private TurnScheduler scheduler(int maxConcurrent) {
        return scheduler(new TurnSettings(maxConcurrent, "be brief", 20));
    }

    private TurnScheduler scheduler(TurnSettings settings) {
        return new TurnScheduler(journal, backend, outbox, settings, IMMEDIATE_FOLLOWUP, scheduler, Runnable::run,
                new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(1)), metrics, GatewayEvents.NONE);
    }

    @Test
    void oneTurnAtATimePerSession() {
        TurnScheduler turns = scheduler(8);

        turns.submit(A, batch("a", "first"));
        turns.submit(A, batch("a", "second"));

        assertThat(backend.prompts()).containsExactly("first");
        assertThat(turns.runningTurns()).isOne();
        assertThat(turns.queuedItems()).isOne();
        assertThat(turns.snapshot()).extracting(SessionQueueStatus::sessionKey, SessionQueueStatus::queued,
                SessionQueueStatus::turnRunning).containsExactly(org.assertj.core.groups.Tuple.tuple(A, 1, true));

        backend.run(0).answer("one");

        assertThat(backend.prompts()).containsExactly("first", "second");
        assertThat(turns.snapshot()).extracting(SessionQueueStatus::sessionKey, SessionQueueStatus::queued,
                SessionQueueStatus::turnRunning).containsExactly(org.assertj.core.groups.Tuple.tuple(A, 0, true));

        backend.run(1).answer("two");

        assertThat(turns.runningTurns()).isZero();
        assertThat(turns.queuedItems()).isZero();
        assertThat(turns.snapshot()).isEmpty();
    }

    @Test
    void turnsOfASessionRunInSubmissionOrder() {
        TurnScheduler turns = scheduler(8);
        for (int i = 1; i <= 5; i++) {
            turns.submit(A, batch("a", "t" + i));
        }

        for (int i = 0; i < 5; i++) {
            backend.run(i).answer("r" + (i + 1));
        }

        assertThat(backend.prompts()).containsExactly("t1", "t2", "t3", "t4", "t5");
        assertThat(delivered).extracting(Reply::text).containsExactly("r1", "r2", "r3", "r4", "r5");
        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(metrics.counter("ferry.turns.completed").count()).isEqualTo(5);
    }

    @Test
    void maxConcurrentLimitsTurnsAcrossSessions() {
        TurnScheduler turns = scheduler(2);

        turns.submit(A, batch("a", "a1"));
        turns.submit(B, batch("b", "b1"));
        turns.submit(C, batch("c", "c1"));

        assertThat(backend.sessions()).containsExactly(A, B);
        assertThat(turns.runningTurns()).isEqualTo(2);
        assertThat(metrics.get("ferry.turns.running").gauge().value()).isEqualTo(2);

        backend.run(1).answer("done b1");

        assertThat(backend.sessions()).containsExactly(A, B, C);
        assertThat(turns.runningTurns()).isEqualTo(2);
    }

    @Test
    void raisingMaxConcurrentStartsWaitingTurns() {
        TurnScheduler turns = scheduler(1);
        turns.submit(A, batch("a", "a1"));
        turns.submit(B, batch("b", "b1"));
        assertThat(backend.sessions()).containsExactly(A);

        turns.useSettings(new TurnSettings(2, "be brief", 20));

        assertThat(backend.sessions()).containsExactly(A, B);
    }

    @Test
    void waitingSessionsAreServedInArrivalOrder() {
        TurnScheduler turns = scheduler(1);
        turns.submit(A, batch("a", "a1"));
        turns.submit(B, batch("b", "b1"));
        turns.submit(C, batch("c", "c1"));
        // A's second batch arrives after B and C started waiting: it queues behind them, not ahead.
        turns.submit(A, batch("a", "a2"));

        for (int i = 0; i < 4; i++) {
            assertThat(backend.runs()).hasSize(i + 1);
            backend.run(i).answer("ok");
        }

        assertThat(backend.prompts()).containsExactly("a1", "b1", "c1", "a2");
    }

    @Test
    void failedTurnIsRetriedWithSameReplyIdAndKeepsLaterBatchesBehindIt() {
        TurnScheduler turns = scheduler(8);
        turns.submit(A, batch("a", "first"));
        turns.submit(A, batch("a", "second"));

        backend.run(0).fail("model unavailable");

        assertThat(backend.runs()).hasSize(1);
        assertThat(turns.runningTurns()).as("the failed turn keeps its slot while it waits").isOne();
        scheduler.advance(Duration.ofMillis(99));
        assertThat(backend.runs()).hasSize(1);
        scheduler.advance(Duration.ofMillis(1));
        assertThat(backend.prompts()).containsExactly("first", "first");

        backend.run(1).fail("still unavailable");
        scheduler.advance(Duration.ofMillis(200));
        assertThat(backend.prompts()).containsExactly("first", "first", "first");

        backend.run(2).answer("answer to first");
        backend.run(3).answer("answer to second");

        assertThat(backend.prompts()).containsExactly("first", "first", "first", "second");
        assertThat(journal.startedTurns()).extracting(Turn::prompt).containsExactly("first", "second");
        assertThat(delivered).extracting(Reply::replyId)
                .containsExactly(journal.startedTurns().get(0).replyId(), journal.startedTurns().get(1).replyId());
        assertThat(delivered).extracting(Reply::text).containsExactly("answer to first", "answer to second");
        assertThat(metrics.counter("ferry.turns.failed").count()).isEqualTo(2);
        assertThat(journal.pendingMessages()).isEmpty();
    }

    @Test
    void aBackendsOwnFailureIsAnsweredAtOnceWithAnErrorReplyAndTheNextBatchRuns() {
        TurnScheduler turns = scheduler(8);
        turns.submit(A, batch("a", "first"));
        turns.submit(A, batch("a", "second"));

        backend.run(0).fail(new AgentFailure(AgentFailure.Kind.UNAUTHORIZED, "the model server refused the API key (401)"));

        assertThat(delivered).extracting(Reply::text)
                .containsExactly("Sorry, I could not answer that: the model server refused the API key (401)");
        assertThat(delivered.get(0).replyId()).isEqualTo(journal.startedTurns().get(0).replyId());
        assertThat(backend.prompts()).as("not retried; the next batch runs").containsExactly("first", "second");
        assertThat(turns.lastAgentError()).hasValueSatisfying(error -> {
            assertThat(error.kind()).isEqualTo("unauthorized");
            assertThat(error.message()).isEqualTo("the model server refused the API key (401)");
        });
        assertThat(turns.errorReplies()).isOne();
        assertThat(journal.transcript(A, 10)).as("the failure is not the agent's words").isEmpty();
        assertThat(metrics.counter("ferry.turns.error.replies", "kind", "unauthorized").count()).isOne();
        backend.run(1).answer("answer to second");
        assertThat(journal.pendingMessages()).as("every message accounted for").isEmpty();
    }

    @Test
    void aFaultThatKeepsFailingIsAnsweredWithAnErrorReplyAfterTheLastAttempt() {
        TurnScheduler turns = scheduler(8);
        turns.submit(A, batch("a", "first"));

        backend.run(0).fail("boom");
        scheduler.advance(Duration.ofMillis(100));
        backend.run(1).fail("boom");
        scheduler.advance(Duration.ofMillis(200));
        assertThat(delivered).isEmpty();
        backend.run(2).fail("boom secret-detail");

        assertThat(backend.runs()).hasSize(AgentErrors.MAX_ATTEMPTS);
        assertThat(delivered).extracting(Reply::text).singleElement().asString()
                .startsWith("Sorry, I could not answer that").doesNotContain("secret-detail");
        assertThat(turns.lastAgentError()).hasValueSatisfying(error -> assertThat(error.kind()).isEqualTo("internal"));
        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(journal.openTurns()).isEmpty();
    }

    @Test
    void turnWhoseStartFindsTheJournalUnavailableIsStartedOnceItRecoversAndKeepsLaterBatchesBehind() {
        TurnScheduler turns = scheduler(8);
        journal.refuseStarts(2);
        turns.submit(A, batch("a", "first"));
        turns.submit(A, batch("a", "second"));

        assertThat(backend.runs()).as("nothing runs while the journal cannot fix the inputs").isEmpty();
        assertThat(turns.runningTurns()).as("the session stays busy while it waits").isOne();
        scheduler.advance(Duration.ofMillis(100));
        assertThat(backend.runs()).isEmpty();
        scheduler.advance(Duration.ofMillis(200));
        assertThat(backend.prompts()).containsExactly("first");

        backend.run(0).answer("answer to first");
        backend.run(1).answer("answer to second");

        assertThat(delivered).extracting(Reply::text).containsExactly("answer to first", "answer to second");
        assertThat(journal.pendingMessages()).isEmpty();
    }

    @Test
    void backendThatThrowsOnStartIsRetriedLikeAFailedRun() {
        var throwingOnce = new dev.ferry.agent.AgentBackend() {
            boolean thrown;

            @Override
            public String name() {
                return "flaky";
            }

            @Override
            public dev.ferry.agent.AgentRun start(AgentRequest request) {
                if (!thrown) {
                    thrown = true;
                    throw new IllegalStateException("backend not ready");
                }
                return backend.start(request);
            }
        };
        TurnScheduler turns = scheduler(8);
        turns.useBackend(throwingOnce);
        turns.submit(A, batch("a", "hello"));
        assertThat(backend.runs()).isEmpty();

        scheduler.advance(Duration.ofMillis(100));
        backend.run(0).answer("hi");

        assertThat(delivered).extracting(Reply::text).containsExactly("hi");
        assertThat(turns.runningTurns()).isZero();
    }

    @Test
    void batchBecomesOnePromptJoinedByNewlines() {
        TurnScheduler turns = scheduler(8);
        InboundMessage first = journaled(journal, inbound("a", "alice", "m1", "hello"));
        InboundMessage second = journaled(journal, inbound("a", "bob", "m2", "there"));
        InboundMessage third = journaled(journal, inbound("a", "bob", "m3", "world"));

        turns.submit(A, List.of(first, second, third));
        backend.run(0).answer("hi all");

        assertThat(backend.prompts()).containsExactly("hello\nthere\nworld");
        assertThat(delivered).hasSize(1);
        Reply reply = delivered.get(0);
        assertThat(reply.inReplyTo()).containsExactly("m1", "m2", "m3");
        assertThat(reply.to()).isEqualTo("bob");
        assertThat(reply.sessionKey()).isEqualTo(A);
    }

    @Test
    void historyIsPassedToTheBackend() {
        TurnScheduler turns = scheduler(new TurnSettings(8, "be kind", 2));
        for (int i = 1; i <= 3; i++) {
            turns.submit(A, batch("a", "t" + i));
            backend.last().answer("r" + i);
        }
        turns.submit(B, batch("b", "other session"));
        backend.last().answer("other reply");

        turns.submit(A, batch("a", "t4"));

        AgentRequest request = backend.last().request();
        assertThat(request.sessionKey()).isEqualTo(A);
        assertThat(request.systemPrompt()).isEqualTo("be kind");
        assertThat(request.prompt()).isEqualTo("t4");
        assertThat(request.history()).extracting(Exchange::prompt, Exchange::reply).containsExactly(
                org.assertj.core.groups.Tuple.tuple("t2", "r2"),
                org.assertj.core.groups.Tuple.tuple("t3", "r3"));
        assertThat(backend.run(0).request().history()).isEmpty();
    }

    @Test
    void batchTheJournalRefusesIsSkippedAndTheSessionMovesOn() {
        TurnScheduler turns = scheduler(1);
        InboundMessage neverJournaled = inbound("a", "alice", "ghost", "boo").withSeq(999);

        turns.submit(A, List.of(neverJournaled));
        turns.submit(A, batch("a", "real"));
        turns.submit(B, batch("b", "other"));

        assertThat(backend.prompts()).containsExactly("real");
        backend.last().answer("ok");
        assertThat(backend.prompts()).containsExactly("real", "other");
    }

    @Test
    void emptyBatchIsIgnored() {
        TurnScheduler turns = scheduler(8);

        turns.submit(A, List.of());

        assertThat(backend.runs()).isEmpty();
        assertThat(turns.snapshot()).isEmpty();
    }

    private List<InboundMessage> batch(String conversation, String text) {
        String id = "m" + (++messageIds);
        return List.of(journaled(journal, inbound(conversation, "alice", id, text)));
    }

    /** The in-memory journal, remembering every turn it started. */
    private static final class RecordingJournal extends ForwardingJournal {
        private final List<Turn> started = Collections.synchronizedList(new ArrayList<>());
        private int refusals;

        RecordingJournal(Journal delegate) {
            super(delegate);
        }

        List<Turn> startedTurns() {
            return List.copyOf(started);
        }

        /** The next {@code count} turn starts fail as a full disk makes them fail. */
        void refuseStarts(int count) {
            refusals = count;
        }

        @Override
        public CompletableFuture<Turn> startTurn(String sessionKey, List<InboundMessage> messages, String prompt) {
            if (refusals > 0) {
                refusals--;
                return CompletableFuture.failedFuture(new JournalUnavailableException("journal: disk full", null));
            }
            return super.startTurn(sessionKey, messages, prompt).thenApply(turn -> {
                started.add(turn);
                return turn;
            });
        }
    }
}
