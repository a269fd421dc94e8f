package dev.ferry.delivery;

import static dev.ferry.journal.TestMessages.inbound;
import static dev.ferry.journal.TestMessages.journaled;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import dev.ferry.journal.InMemoryJournal;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Reply;
import dev.ferry.journal.Turn;
import dev.ferry.time.ManualScheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

class OutboxTest {

    private static final int SLOTS = 16;

    private final InMemoryJournal journal = new InMemoryJournal();
    private final ManualScheduler scheduler = new ManualScheduler();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final Outbox outbox = new Outbox(journal, scheduler,
            new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(1)), metrics);
    private final RecordingTransport transport = new RecordingTransport();

    @Test
    void deliversThroughTheChannelTransport() {
        outbox.useTransport("webhook", transport, SLOTS);
        Reply reply = commit("c1", "m1");

        outbox.enqueue(reply);

        assertThat(transport.sentIds()).containsExactly(reply.replyId());
        assertThat(transport.last().reply()).isEqualTo(reply);
        assertThat(outbox.pendingCount()).isOne();
        assertThat(journal.undeliveredReplies()).as("not delivered before the platform accepts").containsExactly(reply);

        transport.accept();

        assertThat(outbox.pendingCount()).isZero();
        assertThat(journal.undeliveredReplies()).isEmpty();
        assertThat(metrics.counter("ferry.replies.delivered").count()).isEqualTo(1);
        assertThat(metrics.get("ferry.outbox.pending").gauge().value()).isZero();
    }

    @Test
    void retriesAFailedSendWithBackoffUntilItSucceeds() {
        outbox.useTransport("webhook", transport, SLOTS);
        Reply reply = commit("c1", "m1");
        outbox.enqueue(reply);

        transport.reject("connection refused");
        scheduler.advance(Duration.ofMillis(99));
        assertThat(transport.sentIds()).hasSize(1);
        scheduler.advance(Duration.ofMillis(1));
        assertThat(transport.sentIds()).hasSize(2);

        transport.reject("503");
        scheduler.advance(Duration.ofMillis(199));
        assertThat(transport.sentIds()).as("the second wait doubles").hasSize(2);
        scheduler.advance(Duration.ofMillis(1));
        assertThat(transport.sentIds()).containsExactly(reply.replyId(), reply.replyId(), reply.replyId());
        assertThat(journal.undeliveredReplies()).containsExactly(reply);

        transport.accept();

        assertThat(journal.undeliveredReplies()).isEmpty();
        assertThat(outbox.pendingCount()).isZero();
        assertThat(scheduler.pendingTasks()).isZero();
        assertThat(metrics.counter("ferry.delivery.failed.attempts").count()).isEqualTo(2);
        assertThat(metrics.counter("ferry.replies.delivered").count()).isEqualTo(1);
    }

    @Test
    void backoffIsCappedAtTheMaximum() {
        outbox.useTransport("webhook", transport, SLOTS);
        outbox.enqueue(commit("c1", "m1"));
        for (int failure = 1; failure <= 6; failure++) {
            transport.reject("down");
            scheduler.advance(Duration.ofMillis(Math.min(100L << (failure - 1), 1000)));
            assertThat(transport.sentIds()).as("after failure %d", failure).hasSize(failure + 1);
        }

        transport.reject("still down");
        scheduler.advance(Duration.ofMillis(999));
        assertThat(transport.sentIds()).hasSize(7);
        scheduler.advance(Duration.ofMillis(1));
        assertThat(transport.sentIds()).hasSize(8);
    }

    @Test
    void laterRepliesOfASessionWaitForAnEarlierRetry() {
        outbox.useTransport("webhook", transport, SLOTS);
        Reply first = commit("c1", "m1");
        Reply second = commit("c1", "m2");
        outbox.enqueue(first);
        outbox.enqueue(second);

        assertThat(transport.sentIds()).containsExactly(first.replyId());
        transport.reject("timeout");
        scheduler.advance(Duration.ofMillis(100));
        assertThat(transport.sentIds()).containsExactly(first.replyId(), first.replyId());

        transport.accept();
        assertThat(transport.sentIds()).containsExactly(first.replyId(), first.replyId(), second.replyId());
        assertThat(outbox.pendingCount()).isOne();

        transport.accept();
        assertThat(outbox.pendingCount()).isZero();
        assertThat(journal.undeliveredReplies()).isEmpty();
    }

    @Test
    void sessionsDoNotBlockEachOther() {
        outbox.useTransport("webhook", transport, SLOTS);
        Reply stuck = commit("c1", "m1");
        Reply other = commit("c2", "m1");

        outbox.enqueue(stuck);
        transport.reject("down for c1");
        outbox.enqueue(other);

        assertThat(transport.sentIds()).containsExactly(stuck.replyId(), other.replyId());
        transport.accept(other.replyId());
        assertThat(journal.undeliveredReplies()).containsExactly(stuck);
        assertThat(outbox.pendingCount()).isOne();
    }

    @Test
    void replyWithoutTransportIsMarkedDeliveredAtOnce() {
        Reply reply = commit("c1", "m1");

        outbox.enqueue(reply);

        assertThat(outbox.pendingCount()).isZero();
        assertThat(journal.undeliveredReplies()).isEmpty();
        assertThat(journal.transcript(reply.sessionKey(), 10)).hasSize(1);
    }

    @Test
    void transportIsChosenByTheReplysChannel() {
        RecordingTransport telegram = new RecordingTransport();
        outbox.useTransport("telegram", telegram, SLOTS);
        outbox.useTransport("webhook", transport, SLOTS);
        Reply webhookReply = commit("c1", "m1");

        outbox.enqueue(webhookReply);

        assertThat(transport.sentIds()).containsExactly(webhookReply.replyId());
        assertThat(telegram.sentIds()).isEmpty();
    }

    @Test
    void removingTheTransportLetsAWaitingRetryFinishIntoHistory() {
        outbox.useTransport("webhook", transport, SLOTS);
        Reply reply = commit("c1", "m1");
        outbox.enqueue(reply);
        transport.reject("down");

        outbox.useTransport("webhook", null, SLOTS);
        scheduler.advance(Duration.ofMillis(100));

        assertThat(transport.sentIds()).hasSize(1);
        assertThat(outbox.pendingCount()).isZero();
        assertThat(journal.undeliveredReplies()).isEmpty();
    }

    @Test
    void longLaneOfHistoryOnlyRepliesDoesNotOverflowTheStack() {
        outbox.useTransport("webhook", transport, SLOTS);
        List<Reply> replies = replies("agent:main:webhook:default:c1", 50_000);
        replies.forEach(outbox::enqueue);
        assertThat(outbox.pendingCount()).isEqualTo(50_000);

        // The channel loses its reply URL while its head reply is in flight: the rest go to history.
        outbox.useTransport("webhook", null, SLOTS);
        transport.accept();

        assertThat(outbox.pendingCount()).isZero();
        assertThat(transport.sentIds()).hasSize(1);
    }

    @Test
    void longLaneOfRepliesAcceptedAtOnceDoesNotOverflowTheStack() {
        outbox.useTransport("webhook", transport, SLOTS);
        List<Reply> replies = replies("agent:main:webhook:default:c1", 50_000);
        replies.forEach(outbox::enqueue);

        // A transport may accept synchronously (a push to an open socket) and return a completed future.
        List<String> sent = new ArrayList<>();
        outbox.useTransport("webhook", reply -> {
            sent.add(reply.replyId());
            return CompletableFuture.completedFuture(SendOutcome.DELIVERED);
        }, SLOTS);
        transport.accept();

        assertThat(outbox.pendingCount()).isZero();
        assertThat(sent).hasSize(49_999);
        assertThat(sent.get(sent.size() - 1)).isEqualTo(replies.get(replies.size() - 1).replyId());
    }

    @Test
    void aRefusedReplyIsMarkedFailedWithItsReasonAndTheSessionsNextReplyGoesOnAtOnce() {
        outbox.useTransport("webhook", transport, SLOTS);
        Reply refused = commit("c1", "m1");
        Reply next = commit("c1", "m2");
        outbox.enqueue(refused);
        outbox.enqueue(next);

        transport.refuse("HTTP 400: unknown chat");

        assertThat(transport.sentIds()).as("no wait, no retry").containsExactly(refused.replyId(), next.replyId());
        assertThat(scheduler.pendingTasks()).isZero();
        assertThat(journal.failedReplies(10)).singleElement().satisfies(failed -> {
            assertThat(failed.reply()).isEqualTo(refused);
            assertThat(failed.reason()).isEqualTo("HTTP 400: unknown chat");
        });
        assertThat(journal.undeliveredReplies()).containsExactly(next);
        assertThat(metrics.counter("ferry.replies.failed").count()).isEqualTo(1);
        assertThat(metrics.counter("ferry.delivery.failed.attempts").count()).isZero();

        transport.accept();
        scheduler.advance(Duration.ofHours(1));

        assertThat(transport.sentIds()).hasSize(2);
        assertThat(outbox.pendingCount()).isZero();
        assertThat(journal.stats().outboxFailed()).isOne();
        assertThat(journal.stats().outboxPending()).isZero();
    }

    @Test
    void retryFailedSendsAFailedReplyAgainOnce() {
        outbox.useTransport("webhook", transport, SLOTS);
        Reply reply = commit("c1", "m1");
        outbox.enqueue(reply);
        transport.refuse("HTTP 404");

        assertThat(outbox.retryFailed(reply.replyId()).join()).contains(reply);
        assertThat(outbox.retryFailed(reply.replyId()).join()).as("already back in the outbox").isEmpty();

        assertThat(transport.sentIds()).containsExactly(reply.replyId(), reply.replyId());
        assertThat(journal.failedReplies(10)).isEmpty();
        transport.accept();
        assertThat(journal.undeliveredReplies()).isEmpty();
        assertThat(outbox.pendingCount()).isZero();
        assertThat(metrics.counter("ferry.replies.delivered").count()).isEqualTo(1);
    }

    @Test
    void retryFailedOfAReplyThatDidNotFailChangesNothing() {
        outbox.useTransport("webhook", transport, SLOTS);
        Reply pending = commit("c1", "m1");
        outbox.enqueue(pending);

        assertThat(outbox.retryFailed("fr-unknown-1").join()).isEmpty();
        assertThat(outbox.retryFailed(pending.replyId()).join()).isEmpty();

        assertThat(transport.sentIds()).containsExactly(pending.replyId());
        assertThat(outbox.pendingCount()).isOne();
    }

    @Test
    void aWaitThePlatformAsksForReplacesTheBackoff() {
        outbox.useTransport("webhook", transport, SLOTS);
        Reply reply = commit("c1", "m1");
        outbox.enqueue(reply);

        transport.retryAfter("HTTP 429", Duration.ofSeconds(5));
        scheduler.advance(Duration.ofMillis(4_999));
        assertThat(transport.sentIds()).hasSize(1);
        scheduler.advance(Duration.ofMillis(1));
        assertThat(transport.sentIds()).hasSize(2);

        transport.retryAfter("HTTP 503", null);
        scheduler.advance(Duration.ofMillis(200));
        assertThat(transport.sentIds()).as("without a wait, the backoff of the second failure").hasSize(3);
    }

    @Test
    void noMoreThanMaxConcurrentSendsAreInFlightAndWaitingSessionsGoInArrivalOrder() {
        outbox.useTransport("webhook", transport, 2);
        List<Reply> replies = List.of(commit("c1", "m1"), commit("c2", "m1"), commit("c3", "m1"), commit("c4", "m1"));
        replies.forEach(outbox::enqueue);

        assertThat(transport.inFlightIds()).containsExactly(replies.get(0).replyId(), replies.get(1).replyId());

        transport.accept(replies.get(1).replyId());
        assertThat(transport.inFlightIds()).as("a slow send holds only its own slot")
                .containsExactly(replies.get(0).replyId(), replies.get(2).replyId());

        transport.accept(replies.get(2).replyId());
        transport.accept(replies.get(3).replyId());
        transport.accept(replies.get(0).replyId());
        assertThat(transport.sentIds()).containsExactlyElementsOf(replies.stream().map(Reply::replyId).toList());
        assertThat(outbox.pendingCount()).isZero();
    }

    @Test
    void aSessionWaitingOutItsBackoffHoldsNoSendSlot() {
        outbox.useTransport("webhook", transport, 1);
        Reply failing = commit("c1", "m1");
        Reply other = commit("c2", "m1");
        outbox.enqueue(failing);
        outbox.enqueue(other);
        assertThat(transport.inFlightIds()).containsExactly(failing.replyId());

        transport.reject("connection refused");

        assertThat(transport.inFlightIds()).containsExactly(other.replyId());
        scheduler.advance(Duration.ofMillis(100));
        assertThat(transport.inFlightIds()).as("the retry waits for the slot").containsExactly(other.replyId());
        transport.accept();
        assertThat(transport.inFlightIds()).containsExactly(failing.replyId());
    }

    @Test
    void raisingTheBoundStartsWaitingSendsAndRemovingTheTransportSendsThemToHistory() {
        outbox.useTransport("webhook", transport, 1);
        List<Reply> replies = List.of(commit("c1", "m1"), commit("c2", "m1"), commit("c3", "m1"), commit("c4", "m1"));
        replies.forEach(outbox::enqueue);

        outbox.useTransport("webhook", transport, 2);
        assertThat(transport.inFlightIds()).hasSize(2);

        outbox.useTransport("webhook", null, 2);
        assertThat(outbox.pendingCount()).as("the two in flight finish on their transport").isEqualTo(2);
        assertThat(journal.undeliveredReplies()).containsExactly(replies.get(0), replies.get(1));
        transport.accept(replies.get(0).replyId());
        transport.accept(replies.get(1).replyId());
        assertThat(outbox.pendingCount()).isZero();
        assertThat(transport.sentIds()).hasSize(2);
    }

    @Test
    void everyDeliveryMeterSaysWhatItCounts() {
        assertThat(metrics.getMeters()).extracting(meter -> meter.getId().getName())
                .contains("ferry.replies.delivered", "ferry.replies.failed", "ferry.delivery.failed.attempts",
                        "ferry.outbox.pending");
        assertThat(metrics.getMeters()).allSatisfy(meter ->
                assertThat(meter.getId().getDescription()).as(meter.getId().getName()).isNotBlank());
    }

    private Reply commit(String conversation, String messageId) {
        InboundMessage message = journaled(journal, inbound(conversation, "alice", messageId, "text " + messageId));
        Turn turn = journal.startTurn("agent:main:webhook:default:" + conversation, List.of(message), message.text())
                .join();
        return journal.completeTurn(turn, "reply " + messageId).join();
    }

    private static List<Reply> replies(String sessionKey, int count) {
        List<Reply> replies = new ArrayList<>(count);
        for (int i = 1; i <= count; i++) {
            replies.add(new Reply("r-" + i, i, sessionKey, "webhook", "default", "c1", "alice", null, "reply " + i,
                    List.of("m" + i)));
        }
        return replies;
    }
}
