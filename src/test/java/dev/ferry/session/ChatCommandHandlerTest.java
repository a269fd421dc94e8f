package dev.ferry.session;

import static dev.ferry.journal.TestMessages.inbound;
import static dev.ferry.journal.TestMessages.journaled;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.AgentRequest;
import dev.ferry.agent.AgentRun;
import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueConfig;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueOverride;
import dev.ferry.config.QueueSettings;
import dev.ferry.config.SessionScope;
import dev.ferry.delivery.Outbox;
import dev.ferry.events.GatewayEvents;
import dev.ferry.delivery.SendOutcome;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.journal.ForwardingJournal;
import dev.ferry.journal.HeldDirectiveSaves;
import dev.ferry.journal.InMemoryJournal;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalException;
import dev.ferry.journal.JournalStats;
import dev.ferry.journal.Reply;
import dev.ferry.journal.TestMessages;
import dev.ferry.queue.TurnScheduler;
import dev.ferry.queue.TurnSettings;
import dev.ferry.time.ManualScheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Chat commands answered without a model call (SPEC 2 step 3, SPEC 3.2 {@code /queue}), driven
 * through the {@link SessionRouter} as the debouncer would.
 */
class ChatCommandHandlerTest {

    private static final String SESSION = "agent:main:webhook:default:c1";
    /** Followup by default, so a session directive's {@code collect} is visibly its own doing. */
    private static final QueueConfig QUEUE = new QueueConfig(QueueMode.FOLLOWUP, 1_000, 0, 20, DropPolicy.SUMMARIZE,
            true, Map.of());

    private final InMemoryJournal journal = new InMemoryJournal();
    private final ManualScheduler scheduler = new ManualScheduler();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final List<Run> runs = Collections.synchronizedList(new ArrayList<>());
    private final List<Reply> sent = Collections.synchronizedList(new ArrayList<>());
    private final Outbox outbox = new Outbox(journal, scheduler, RetryPolicy.DEFAULT, metrics);
    private final TurnScheduler turns = new TurnScheduler(journal, new OpenBackend(), outbox,
            new TurnSettings(8, "", 20), QUEUE, scheduler, Runnable::run, RetryPolicy.DEFAULT, metrics, GatewayEvents.NONE);
    private final SessionRouter router = new SessionRouter(SessionScope.CONVERSATION, turns,
            new ChatCommandHandler(journal, turns, outbox));
    private int messageIds;

    ChatCommandHandlerTest() {
        outbox.useTransport(TestMessages.CHANNEL, reply -> {
            sent.add(reply);
            return CompletableFuture.completedFuture(SendOutcome.DELIVERED);
        }, 16);
    }

    // ---- /queue ----------------------------------------------------------------------------------------------

    @Test
    void queueDirectivePersistsOnTheSessionAndAppliesToTheNextMessages() {
        send("/queue collect cap:3");

        assertThat(journal.queueDirectives().get(SESSION)).isEqualTo(new QueueOverride(QueueMode.COLLECT, null, 3, null));
        assertThat(lastAnswer()).isEqualTo("Queue settings for this session: collect (debounce 1000 ms, max wait 5000 ms, cap 3, drop summarize)");
        assertThat(runs).as("no model call").isEmpty();

        send("first");
        for (String text : List.of("a", "b", "c", "d")) {
            send(text);
        }
        runs.get(0).reply.complete("r0");
        scheduler.advance(Duration.ofMillis(1_000));

        assertThat(runs).extracting(run -> run.request.prompt()).containsExactly("first",
                "[Queue overflow] Dropped 1 message(s) due to cap.\nSummary:\n- a\n\n"
                        + "[Queued messages while agent was busy]\n\n---\nQueued #1\nb\n\n---\nQueued #2\nc\n\n---\nQueued #3\nd");
        assertThat(journal.stats().dropped()).isEqualTo(1);
    }

    @Test
    void queueDirectiveSetsTheDrainBound() {
        send("/queue maxwait:3s");

        assertThat(journal.queueDirectives().get(SESSION)).isEqualTo(new QueueOverride(null, null, null, null, 3_000L));
        assertThat(lastAnswer()).isEqualTo(
                "Queue settings for this session: followup (debounce 1000 ms, max wait 3000 ms, cap 20, drop summarize)");
        assertThat(runs).as("no model call").isEmpty();
    }

    @Test
    void laterQueueDirectivesMergeWithTheStoredOne() {
        send("/queue cap:3");
        send("/queue drop:old debounce:2s");

        assertThat(journal.queueDirectives().get(SESSION)).isEqualTo(new QueueOverride(null, 2_000L, 3, DropPolicy.OLD));
        assertThat(turns.settingsFor(SESSION, "webhook"))
                .isEqualTo(new QueueSettings(QueueMode.FOLLOWUP, 2_000, 3, DropPolicy.OLD));
    }

    @Test
    void queueResetClearsTheSessionsSettings() {
        send("/queue collect cap:2");

        send("/queue reset");

        assertThat(journal.queueDirectives().get(SESSION)).isNull();
        assertThat(turns.settingsFor(SESSION, "webhook")).isEqualTo(QUEUE.settingsFor("webhook"));
        assertThat(lastAnswer()).isEqualTo("Queue settings for this session: followup (debounce 1000 ms, max wait 5000 ms, cap 20, drop summarize)");
    }

    @Test
    void twoQuickQueueCommandsKeepBothChangesAndAreConfirmedOnceSaved() {
        HeldDirectiveSaves slowSaves = new HeldDirectiveSaves(journal);
        SessionRouter slowRouter = routerOver(slowSaves);

        send(slowRouter, "/queue cap:3");
        send(slowRouter, "/queue drop:old");
        assertThat(sent).as("no confirmation before its save").isEmpty();
        slowSaves.commitAll();

        assertThat(journal.queueDirectives().get(SESSION)).isEqualTo(new QueueOverride(null, null, 3, DropPolicy.OLD));
        assertThat(lastAnswer()).isEqualTo("Queue settings for this session: followup (debounce 1000 ms, max wait 5000 ms, cap 3, drop old)");
    }

    @Test
    void aQueueCommandWhoseSaveFailsSaysSoAndChangesNothing() {
        Journal failingSaves = new ForwardingJournal(journal) {
            @Override
            public CompletableFuture<Void> saveQueueDirective(String sessionKey, QueueOverride directive) {
                return CompletableFuture.failedFuture(new JournalException("disk full", null));
            }
        };
        SessionRouter router = routerOver(failingSaves);

        send(router, "/queue collect");

        assertThat(lastAnswer()).isEqualTo("Queue settings unchanged: they could not be saved.");
        send(router, "/queue");
        assertThat(lastAnswer()).isEqualTo("Queue: followup (debounce 1000 ms, max wait 5000 ms, cap 20, drop summarize)");
    }

    @Test
    void queueWithTextSetsTheModeAndRunsTheTextAsATurn() {
        send("/queue collect");
        InboundMessage command = send("/queue followup hello there");

        assertThat(journal.queueDirectives().get(SESSION)).isEqualTo(new QueueOverride(QueueMode.FOLLOWUP, null, null, null));
        assertThat(runs).extracting(run -> run.request.prompt()).containsExactly("hello there");
        runs.get(0).reply.complete("hi");

        assertThat(sent).extracting(Reply::text).last().isEqualTo("hi");
        assertThat(sent).last().extracting(Reply::inReplyTo).isEqualTo(List.of(command.messageId()));
        assertThat(journal.pendingMessages()).isEmpty();
    }

    @Test
    void queueWithAnInvalidValueChangesNothingAndSaysWhy() {
        send("/queue followup cap:2");

        send("/queue collect cap:0");

        assertThat(lastAnswer()).startsWith("Queue settings unchanged: cap:").contains("'0'");
        assertThat(journal.queueDirectives().get(SESSION)).isEqualTo(new QueueOverride(QueueMode.FOLLOWUP, null, 2, null));
    }

    @Test
    void queueAloneShowsTheCurrentSettings() {
        send("/queue");

        assertThat(lastAnswer()).isEqualTo("Queue: followup (debounce 1000 ms, max wait 5000 ms, cap 20, drop summarize)");
        assertThat(journal.pendingMessages()).isEmpty();
    }

    // ---- /status -----------------------------------------------------------------------------------------------

    @Test
    void statusAnswersWithSessionModeAndQueueDepthWithoutAModelCall() {
        InboundMessage command = send("/status");

        assertThat(runs).as("backend never started").isEmpty();
        assertThat(lastAnswer()).isEqualTo("Session: " + SESSION
                + "\nQueue: followup (debounce 1000 ms, max wait 5000 ms, cap 20, drop summarize)"
                + "\nTurn running: no\nQueued: 0\nDropped: 0, superseded: 0");
        assertThat(sent).singleElement().extracting(Reply::turnId, Reply::inReplyTo, Reply::conversation)
                .containsExactly(0L, List.of(command.messageId()), "c1");
        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(journal.transcript(SESSION, 10)).as("a command is not part of the conversation").isEmpty();
    }

    @Test
    void statusOfABusySessionShowsTheRunningTurnAndQueueDepth() {
        send("first");
        send("a");
        send("b");

        send("/status@mybot");

        assertThat(runs).hasSize(1);
        assertThat(lastAnswer()).contains("Turn running: yes").contains("Queued: 2").contains("Queue: followup");
    }

    // ---- /new and /reset -------------------------------------------------------------------------------------

    @Test
    void newAndResetClearTheTranscript() {
        send("remember 42");
        runs.get(0).reply.complete("ok");
        assertThat(journal.transcript(SESSION, 10)).hasSize(1);

        send("/new");

        assertThat(journal.transcript(SESSION, 10)).isEmpty();
        assertThat(lastAnswer()).startsWith("Started a new session");

        send("again");
        runs.get(1).reply.complete("ok");
        assertThat(runs.get(1).request.history()).isEmpty();
        send("/RESET");
        assertThat(journal.transcript(SESSION, 10)).isEmpty();
        assertThat(runs).hasSize(2);
    }

    @Test
    void newWithTextStartsAFreshSessionAndRunsTheText() {
        send("remember 42");
        runs.get(0).reply.complete("ok");

        send("/new what do you remember?");

        assertThat(runs).hasSize(2);
        assertThat(runs.get(1).request.prompt()).isEqualTo("what do you remember?");
        assertThat(runs.get(1).request.history()).isEmpty();
    }

    // ---- /stop -------------------------------------------------------------------------------------------------

    @Test
    void stopAbortsTheRunningTurnClearsTheQueueAndReportsWhatWasCleared() {
        send("long task");
        send("a");
        send("b");

        send("/stop");

        assertThat(runs.get(0).aborted).isTrue();
        assertThat(lastAnswer()).isEqualTo("Stopped the running turn; cleared 2 queued message(s).");
        assertThat(sent).as("no reply for the aborted turn").extracting(Reply::turnId).containsOnly(0L);
        JournalStats stats = journal.stats();
        assertThat(stats.dropped()).as("cleared messages are journaled as dropped").isEqualTo(2);
        assertThat(stats.superseded()).isEqualTo(1);
        assertThat(stats.pending()).isZero();
        assertThat(turns.queuedItems()).isZero();
        scheduler.advance(Duration.ofSeconds(10));
        assertThat(runs).as("nothing cleared runs later").hasSize(1);

        send("next");
        assertThat(runs).extracting(run -> run.request.prompt()).containsExactly("long task", "next");
    }

    @Test
    void stopDuringARetryBackoffDoesNotStartTheTurnAgain() {
        send("flaky task");
        runs.get(0).reply.completeExceptionally(new IllegalStateException("model unavailable"));

        send("/stop");
        scheduler.advance(Duration.ofSeconds(60));

        assertThat(lastAnswer()).startsWith("Stopped the running turn");
        assertThat(runs).as("the stopped turn is not started again").hasSize(1);
        assertThat(journal.stats().superseded()).isEqualTo(1);
    }

    @Test
    void stopWithNothingGoingOnSaysSo() {
        send("/stop");

        assertThat(lastAnswer()).isEqualTo("Nothing to stop.");
    }

    @Test
    void stopBetweenTurnsClearsTheQueueWithoutAnAbort() {
        send("first");
        send("a");
        runs.get(0).reply.complete("r0");

        send("/stop");

        assertThat(lastAnswer()).isEqualTo("No turn was running; cleared 1 queued message(s).");
        scheduler.advance(Duration.ofSeconds(10));
        assertThat(runs).hasSize(1);
        assertThat(journal.stats().dropped()).isEqualTo(1);
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private InboundMessage send(String text) {
        return send(router, text);
    }

    private InboundMessage send(SessionRouter to, String text) {
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m" + (++messageIds), text));
        to.route(List.of(message));
        return message;
    }

    /** A router and scheduler like this test's own, writing through {@code seenBy} (a fake in front of the journal). */
    private SessionRouter routerOver(Journal seenBy) {
        TurnScheduler scheduler = new TurnScheduler(seenBy, new OpenBackend(), outbox, new TurnSettings(8, "", 20), QUEUE,
                this.scheduler, Runnable::run, RetryPolicy.DEFAULT, new SimpleMeterRegistry(), GatewayEvents.NONE);
        return new SessionRouter(SessionScope.CONVERSATION, scheduler, new ChatCommandHandler(seenBy, scheduler, outbox));
    }

    /** The text of the newest command answer (turn id 0). */
    private String lastAnswer() {
        synchronized (sent) {
            List<Reply> answers = sent.stream().filter(reply -> reply.turnId() == 0).toList();
            assertThat(answers).isNotEmpty();
            return answers.get(answers.size() - 1).text();
        }
    }

    private static final class Run implements AgentRun {
        final AgentRequest request;
        final CompletableFuture<String> reply = new CompletableFuture<>();
        volatile boolean aborted;

        Run(AgentRequest request) {
            this.request = request;
        }

        @Override
        public CompletableFuture<String> reply() {
            return reply;
        }

        @Override
        public void abort() {
            aborted = true;
            reply.completeExceptionally(new CancellationException("aborted"));
        }
    }

    /** Each run stays open until the test completes it. */
    private final class OpenBackend implements AgentBackend {
        @Override
        public String name() {
            return "open";
        }

        @Override
        public AgentRun start(AgentRequest request) {
            Run run = new Run(request);
            runs.add(run);
            return run;
        }
    }
}
