package dev.ferry.queue;

import static dev.ferry.queue.QueueFixture.SESSION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueMode;
import dev.ferry.events.GatewayEvent;
import dev.ferry.events.GatewayEvent.QueueChange;
import dev.ferry.events.GatewayEvent.QueueChanged;
import dev.ferry.events.GatewayEvent.TextDelta;
import dev.ferry.events.GatewayEvent.TurnEnded;
import dev.ferry.events.GatewayEvent.TurnOutcome;
import dev.ferry.events.GatewayEvent.TurnStarted;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Reply;

/** What the followup queues and turns publish, and in which order, on the fixture's recording event stream. */
class QueueAndTurnEventsTest {

    private final QueueFixture fixture = new QueueFixture();
    private final ControlledBackend backend = fixture.backend;
    private final RecordingEvents events = fixture.events;

    @Test
    void oneMessagesTurnPublishesStartedThenItsDeltasThenEndedBeforeTheOutboxHasTheReply() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        InboundMessage message = fixture.message("hello");
        fixture.submit(turns, SESSION, message);

        backend.run(0).delta("Hel");
        backend.run(0).delta("lo!");
        backend.run(0).answer("Hello!");

        List<GatewayEvent> all = events.all();
        assertThat(all).hasSize(4);
        TurnStarted started = (TurnStarted) all.get(0);
        String replyId = fixture.turnReplies().get(0).replyId();
        assertThat(started).isEqualTo(new TurnStarted(SESSION, started.turnId(), message.channel(),
                message.conversation(), List.of(message.messageId())));
        assertThat(all.subList(1, 3)).containsExactly(
                new TextDelta(SESSION, started.turnId(), replyId, message.channel(), message.conversation(), "Hel"),
                new TextDelta(SESSION, started.turnId(), replyId, message.channel(), message.conversation(), "lo!"));
        assertThat(all.get(3)).isEqualTo(new TurnEnded(SESSION, started.turnId(), TurnOutcome.REPLIED, null));
        assertThat(events.published().get(3).probe()).as("no reply handed to the transport yet").isZero();
        assertThat(fixture.turnReplies()).extracting(Reply::text).containsExactly("Hello!");
    }

    @Test
    void aMessageThatFindsItsSessionBusyIsQueuedWithTheQueueDepth() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 1_000, 20, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("first"));
        InboundMessage a = fixture.message("a");
        InboundMessage b = fixture.message("b");
        fixture.submit(turns, SESSION, a);
        fixture.submit(turns, SESSION, b);

        assertThat(events.of(QueueChanged.class)).extracting(QueueChanged::messageId, QueueChanged::change,
                QueueChanged::reason, QueueChanged::queued).containsExactly(
                tuple(a.messageId(), QueueChange.QUEUED, null, 1),
                tuple(b.messageId(), QueueChange.QUEUED, null, 2));
    }

    @Test
    void aSteeredMessageIsPublishedAsSteeredAndNotQueued() {
        backend.takeInput(true);
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.STEER, 1_000, 20, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("write a poem"));
        InboundMessage steer = fixture.message("about the sea");

        fixture.submit(turns, SESSION, steer);

        assertThat(events.of(QueueChanged.class)).extracting(QueueChanged::messageId, QueueChanged::change,
                QueueChanged::queued).containsExactly(tuple(steer.messageId(), QueueChange.STEERED, 0));
    }

    @Test
    void steerBacklogPublishesSteeredThenQueued() {
        backend.takeInput(true);
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.STEER_BACKLOG, 1_000, 20, DropPolicy.SUMMARIZE));
        fixture.submit(turns, SESSION, fixture.message("write a poem"));
        InboundMessage later = fixture.message("make it rhyme");

        fixture.submit(turns, SESSION, later);

        assertThat(events.of(QueueChanged.class)).extracting(QueueChanged::messageId, QueueChanged::change)
                .containsExactly(tuple(later.messageId(), QueueChange.STEERED), tuple(later.messageId(), QueueChange.QUEUED));
    }

    @Test
    void theCapRefusingANewMessagePublishesItDroppedWithTheReason() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 1_000, 1, DropPolicy.NEW));
        fixture.submit(turns, SESSION, fixture.message("first"));
        fixture.submit(turns, SESSION, fixture.message("queued"));
        InboundMessage refused = fixture.message("refused");

        fixture.submit(turns, SESSION, refused);

        assertThat(events.of(QueueChanged.class)).last().extracting(QueueChanged::messageId, QueueChanged::change,
                QueueChanged::reason, QueueChanged::queued)
                .isEqualTo(List.of(refused.messageId(), QueueChange.DROPPED, "queue-cap-new", 1));
    }

    @Test
    void theCapDroppingTheOldestPublishesItDroppedAndTheNewOneQueued() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.FOLLOWUP, 1_000, 1, DropPolicy.OLD));
        fixture.submit(turns, SESSION, fixture.message("first"));
        InboundMessage oldest = fixture.message("oldest");
        InboundMessage newer = fixture.message("newer");
        fixture.submit(turns, SESSION, oldest);

        fixture.submit(turns, SESSION, newer);

        assertThat(events.of(QueueChanged.class)).extracting(QueueChanged::messageId, QueueChanged::change,
                QueueChanged::reason).containsExactly(
                tuple(oldest.messageId(), QueueChange.QUEUED, null),
                tuple(oldest.messageId(), QueueChange.DROPPED, "queue-cap-old"),
                tuple(newer.messageId(), QueueChange.QUEUED, null));
    }

    @Test
    void stopPublishesTheClearedAndTheAbortedTurnsMessagesDroppedAndTheTurnSuperseded() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        InboundMessage running = fixture.message("running");
        InboundMessage queued = fixture.message("queued");
        fixture.submit(turns, SESSION, running);
        fixture.submit(turns, SESSION, queued);

        turns.stop(SESSION);

        assertThat(events.of(QueueChanged.class)).extracting(QueueChanged::messageId, QueueChanged::change,
                QueueChanged::reason).containsExactlyInAnyOrder(
                tuple(queued.messageId(), QueueChange.QUEUED, null),
                tuple(running.messageId(), QueueChange.DROPPED, "stopped"),
                tuple(queued.messageId(), QueueChange.DROPPED, "stopped"));
        assertThat(events.of(TurnEnded.class)).extracting(TurnEnded::outcome, TurnEnded::detail)
                .containsExactly(tuple(TurnOutcome.SUPERSEDED, "stopped"));
    }

    @Test
    void anInterruptEndsTheRunningTurnSupersededBeforeTheNewMessagesTurnStarts() {
        TurnScheduler turns = fixture.turns(QueueFixture.queue(QueueMode.INTERRUPT, 1_000, 20, DropPolicy.SUMMARIZE));
        InboundMessage old = fixture.message("long task");
        InboundMessage newer = fixture.message("never mind");
        fixture.submit(turns, SESSION, old);

        fixture.submit(turns, SESSION, newer);

        assertThat(events.all()).filteredOn(event -> !(event instanceof TextDelta)).extracting(Object::getClass)
                .containsExactly(TurnStarted.class, QueueChanged.class, TurnEnded.class, QueueChanged.class,
                        TurnStarted.class);
        assertThat(events.of(QueueChanged.class)).extracting(QueueChanged::messageId, QueueChanged::change,
                QueueChanged::reason).containsExactly(
                tuple(newer.messageId(), QueueChange.QUEUED, null),
                tuple(old.messageId(), QueueChange.DROPPED, "interrupted"));
        assertThat(events.of(TurnEnded.class)).extracting(TurnEnded::outcome, TurnEnded::detail)
                .containsExactly(tuple(TurnOutcome.SUPERSEDED, "interrupted"));
        assertThat(events.of(TurnStarted.class)).extracting(TurnStarted::messageIds)
                .containsExactly(List.of(old.messageId()), List.of(newer.messageId()));
    }

    @Test
    void eachFailedAttemptEndsFailedAndTheRetryStartsAgain() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("hello"));

        backend.run(0).fail("model unavailable");
        fixture.advance(100);
        backend.run(1).answer("hi");

        assertThat(events.all()).extracting(Object::getClass).containsExactly(TurnStarted.class, TurnEnded.class,
                GatewayEvent.TextRestarted.class, TurnStarted.class, TurnEnded.class);
        assertThat(events.of(TurnEnded.class)).extracting(TurnEnded::outcome)
                .containsExactly(TurnOutcome.FAILED, TurnOutcome.REPLIED);
        assertThat(events.of(TurnEnded.class).get(0).detail()).contains("model unavailable");
        assertThat(events.of(TurnStarted.class)).extracting(TurnStarted::turnId).containsOnly(
                events.of(TurnEnded.class).get(1).turnId());
    }

    @Test
    void aTurnParkedForAReloadEndsParkedAndRunsAgainAsTheSameTurnOnResume() {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("hello"));
        turns.pause();

        assertThat(turns.parkRunningTurns()).isOne();

        assertThat(backend.run(0).aborted()).isTrue();
        assertThat(turns.runningTurns()).as("a parked turn keeps its slot").isOne();
        assertThat(events.of(TurnEnded.class)).extracting(TurnEnded::outcome, TurnEnded::detail)
                .containsExactly(tuple(TurnOutcome.PARKED, "reload"));
        assertThat(turns.parkRunningTurns()).as("a parked turn is not parked twice").isZero();
        assertThat(fixture.journal.stats().superseded()).isZero();

        turns.resume();
        backend.run(1).answer("hi");

        assertThat(backend.prompts()).containsExactly("hello", "hello");
        assertThat(events.of(TurnStarted.class)).extracting(TurnStarted::turnId).hasSize(2).containsOnly(
                events.of(TurnEnded.class).get(1).turnId());
        assertThat(events.of(TurnEnded.class)).extracting(TurnEnded::outcome)
                .containsExactly(TurnOutcome.PARKED, TurnOutcome.REPLIED);
        assertThat(fixture.turnReplies()).extracting(Reply::text).containsExactly("hi");
        assertThat(turns.runningTurns()).isZero();
    }

    @Test
    void awaitingRunningTurnsCountsAParkedTurnAsNotRunning() throws Exception {
        TurnScheduler turns = fixture.turns(QueueFixture.defaults());
        fixture.submit(turns, SESSION, fixture.message("hello"));
        turns.pause();
        turns.parkRunningTurns();

        assertThat(turns.awaitNoRunningTurns(Duration.ofSeconds(30))).isTrue();
    }

    @Test
    void aPublisherThatThrowsNeverFailsTheTurn() {
        TurnScheduler turns = new TurnScheduler(fixture.journal, backend, fixture.outbox,
                new TurnSettings(8, "be brief", 20), QueueFixture.defaults(), fixture.scheduler, Runnable::run,
                QueueFixture.RETRY, fixture.metrics, event -> {
                    throw new IllegalStateException("subscriber broke");
                });
        fixture.submit(turns, SESSION, fixture.message("hello"));
        fixture.submit(turns, SESSION, fixture.message("queued"));

        backend.run(0).delta("h");
        backend.run(0).answer("hi");
        fixture.advance(1_000);
        backend.run(1).answer("again");

        assertThat(fixture.turnReplies()).extracting(Reply::text).containsExactly("hi", "again");
        assertThat(turns.runningTurns()).isZero();
    }
}
