package dev.ferry.journal;

import static dev.ferry.journal.TestMessages.inbound;
import static dev.ferry.journal.TestMessages.journaled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CompletionException;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueOverride;

class InMemoryJournalTest {

    private static final String SESSION = "agent:main:webhook:default:c1";

    private final InMemoryJournal journal = new InMemoryJournal();

    @Nested
    class SessionsAndRetention extends SessionRetentionContract {
        @Override
        protected Journal journal() {
            return new InMemoryJournal();
        }
    }

    @Test
    void appendAssignsIncreasingSeqs() {
        AppendResult first = journal.append(inbound("c1", "alice", "m1", "one")).join();
        AppendResult second = journal.append(inbound("c2", "bob", "m1", "two")).join();
        AppendResult third = journal.append(inbound("c1", "alice", "m2", "three")).join();

        assertThat(List.of(first, second, third)).extracting(AppendResult::duplicate).containsOnly(false);
        assertThat(second.seq()).isGreaterThan(first.seq());
        assertThat(third.seq()).isGreaterThan(second.seq());
        assertThat(journal.pendingMessages())
                .extracting(InboundMessage::seq, InboundMessage::text)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(first.seq(), "one"),
                        org.assertj.core.groups.Tuple.tuple(second.seq(), "two"),
                        org.assertj.core.groups.Tuple.tuple(third.seq(), "three"));
    }

    @Test
    void duplicateMessageIdInSameConversationIsReportedWithFirstSeq() {
        AppendResult first = journal.append(inbound("c1", "alice", "m1", "original")).join();
        journal.append(inbound("c1", "alice", "m2", "other")).join();

        AppendResult again = journal.append(inbound("c1", "alice", "m1", "resent with other text")).join();

        assertThat(again).isEqualTo(new AppendResult(first.seq(), true));
        assertThat(journal.pendingMessages()).extracting(InboundMessage::text).containsExactly("original", "other");
        assertThat(journal.stats().duplicates()).isEqualTo(1);
        assertThat(journal.stats().received()).isEqualTo(2);
    }

    @Test
    void duplicateIsRecognisedAfterTheMessageIsDone() {
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "hi"));
        Turn turn = journal.startTurn(SESSION, List.of(message), "hi").join();
        journal.completeTurn(turn, "hello").join();

        AppendResult again = journal.append(inbound("c1", "alice", "m1", "hi")).join();

        assertThat(again).isEqualTo(new AppendResult(message.seq(), true));
        assertThat(journal.pendingMessages()).isEmpty();
    }

    @Test
    void sameMessageIdInAnotherConversationIsNotADuplicate() {
        AppendResult first = journal.append(inbound("c1", "alice", "m1", "a")).join();
        AppendResult otherConversation = journal.append(inbound("c2", "alice", "m1", "b")).join();
        AppendResult otherChannel = journal.append(new InboundMessage(0, "telegram", "default", "c1", "alice", "m1",
                "c", null, null, List.of(), 0)).join();
        AppendResult otherAccount = journal.append(new InboundMessage(0, "webhook", "second", "c1", "alice", "m1",
                "d", null, null, List.of(), 0)).join();

        assertThat(List.of(otherConversation, otherChannel, otherAccount))
                .extracting(AppendResult::duplicate).containsOnly(false);
        assertThat(List.of(first, otherConversation, otherChannel, otherAccount))
                .extracting(AppendResult::seq).doesNotHaveDuplicates();
        assertThat(journal.pendingMessages()).hasSize(4);
    }

    @Test
    void startTurnRefusesAMessageAlreadyInAnotherTurn() {
        InboundMessage first = journaled(journal, inbound("c1", "alice", "m1", "one"));
        InboundMessage second = journaled(journal, inbound("c1", "alice", "m2", "two"));
        journal.startTurn(SESSION, List.of(first), "one").join();

        assertThatThrownBy(() -> journal.startTurn(SESSION, List.of(second, first), "two\none").join())
                .isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("seq=" + first.seq());
        // The refused turn claimed nothing: the second message can still have a turn of its own.
        assertThat(journal.startTurn(SESSION, List.of(second), "two").join().messages()).containsExactly(second);
    }

    @Test
    void startTurnRefusesAMessageThatIsNotPending() {
        InboundMessage notJournaled = inbound("c1", "alice", "m1", "one").withSeq(42);

        assertThatThrownBy(() -> journal.startTurn(SESSION, List.of(notJournaled), "one").join())
                .hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not pending");
    }

    @Test
    void completeTurnMarksDoneAppendsTranscriptAndFillsOutbox() {
        InboundMessage first = journaled(journal, inbound("c1", "alice", "m1", "hello"));
        InboundMessage last = journaled(journal, new InboundMessage(0, "webhook", "default", "c1", "bob", "m2",
                "there", "thread-9", null, List.of(), 0));
        InboundMessage unrelated = journaled(journal, inbound("c2", "carol", "m3", "elsewhere"));
        Turn turn = journal.startTurn(SESSION, List.of(first, last), "hello\nthere").join();

        Reply reply = journal.completeTurn(turn, "echo: hello\nthere").join();

        assertThat(reply).isEqualTo(new Reply(turn.replyId(), turn.id(), SESSION, "webhook", "default", "c1", "bob",
                "thread-9", "echo: hello\nthere", List.of("m1", "m2")));
        assertThat(journal.pendingMessages()).containsExactly(unrelated);
        assertThat(journal.transcript(SESSION, 10))
                .extracting(Exchange::turnId, Exchange::prompt, Exchange::reply)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(turn.id(), "hello\nthere", "echo: hello\nthere"));
        assertThat(journal.undeliveredReplies()).containsExactly(reply);
    }

    @Test
    void transcriptReturnsTheNewestExchangesOldestFirst() {
        for (int i = 1; i <= 3; i++) {
            InboundMessage message = journaled(journal, inbound("c1", "alice", "m" + i, "t" + i));
            journal.completeTurn(journal.startTurn(SESSION, List.of(message), "t" + i).join(), "r" + i).join();
        }

        assertThat(journal.transcript(SESSION, 2)).extracting(Exchange::prompt).containsExactly("t2", "t3");
        assertThat(journal.transcript(SESSION, 10)).extracting(Exchange::reply).containsExactly("r1", "r2", "r3");
        assertThat(journal.transcript("agent:main:nobody", 10)).isEmpty();
    }

    @Test
    void replyIdsDifferBetweenJournalInstances() {
        InMemoryJournal other = new InMemoryJournal();

        Turn here = journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m1", "x"))), "x").join();
        Turn there = other.startTurn(SESSION, List.of(journaled(other, inbound("c1", "a", "m1", "x"))), "x").join();

        assertThat(here.id()).isEqualTo(there.id());
        assertThat(here.replyId()).isNotEqualTo(there.replyId());
    }

    @Test
    void replyIdsDifferBetweenTurnsOfOneJournal() {
        Turn first = journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m1", "x"))), "x").join();
        Turn second = journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m2", "y"))), "y").join();

        assertThat(first.replyId()).isNotEqualTo(second.replyId());
    }

    @Test
    void markDeliveredEmptiesOutbox() {
        Reply first = completeOneTurn("c1", "m1");
        Reply second = completeOneTurn("c1", "m2");
        assertThat(journal.undeliveredReplies()).containsExactly(first, second);

        journal.markDelivered(first.replyId()).join();
        assertThat(journal.undeliveredReplies()).containsExactly(second);

        journal.markDelivered(second.replyId()).join();
        journal.markDelivered("never-existed").join();
        assertThat(journal.undeliveredReplies()).isEmpty();
        assertThat(journal.stats().outboxPending()).isZero();
    }

    @Test
    void statsAccountForEveryMessage() {
        InboundMessage done = journaled(journal, inbound("c1", "alice", "m1", "one"));
        journaled(journal, inbound("c1", "alice", "m2", "two"));
        journaled(journal, inbound("c2", "bob", "m1", "three"));
        journal.append(inbound("c1", "alice", "m1", "one again")).join();
        journal.append(inbound("c1", "alice", "m1", "and again")).join();
        journal.completeTurn(journal.startTurn(SESSION, List.of(done), "one").join(), "r").join();

        JournalStats stats = journal.stats();

        assertThat(stats).isEqualTo(new JournalStats(3, 2, 1, 0, 0, 2, 1, 0));
        assertThat(stats.received()).isEqualTo(stats.done() + stats.pending());
    }

    @Test
    void sessionsCountTurnsPerSession() {
        completeOneTurn("c1", "m1");
        completeOneTurn("c2", "m1");
        completeOneTurn("c1", "m2");
        // A turn started but not completed has no transcript yet.
        journal.startTurn("agent:main:webhook:default:c3",
                List.of(journaled(journal, inbound("c3", "a", "m1", "x"))), "x").join();

        assertThat(journal.sessions(0, 100))
                .extracting(SessionInfo::sessionKey, SessionInfo::turns)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("agent:main:webhook:default:c1", 2L),
                        org.assertj.core.groups.Tuple.tuple("agent:main:webhook:default:c2", 1L));
    }

    @Test
    void sessionsListsMostRecentFirst() {
        // Completed back to back, as under load: usually all within one millisecond.
        for (int i = 1; i <= 6; i++) {
            completeOneTurn("c" + i, "m1");
        }
        completeOneTurn("c2", "m2");

        assertThat(journal.sessions(0, 100)).extracting(SessionInfo::sessionKey).containsExactly(
                "agent:main:webhook:default:c2",
                "agent:main:webhook:default:c6",
                "agent:main:webhook:default:c5",
                "agent:main:webhook:default:c4",
                "agent:main:webhook:default:c3",
                "agent:main:webhook:default:c1");
    }

    @Test
    void statsAccountForEveryMessageWhateverBecameOfIt() {
        InboundMessage answered = journaled(journal, inbound("c1", "alice", "m1", "one"));
        InboundMessage command = journaled(journal, inbound("c1", "alice", "m2", "/status"));
        InboundMessage dropped = journaled(journal, inbound("c1", "alice", "m3", "three"));
        InboundMessage superseded = journaled(journal, inbound("c1", "alice", "m4", "four"));
        journaled(journal, inbound("c1", "alice", "m5", "five"));
        journal.append(inbound("c1", "alice", "m1", "one again")).join();
        journal.completeTurn(journal.startTurn(SESSION, List.of(answered), "one").join(), "r").join();
        journal.completeWithoutTurn(SESSION, command, "status").join();
        journal.dropMessages(List.of(dropped), "queue-cap-new").join();
        journal.supersedeTurn(journal.startTurn(SESSION, List.of(superseded), "four").join(), "interrupted").join();
        journal.recordNotice(SESSION, dropped, "Ferry dropped 1 message(s)").join();

        JournalStats stats = journal.stats();

        assertThat(stats).isEqualTo(new JournalStats(5, 1, 2, 1, 1, 1, 3, 0));
        assertThat(stats.received()).isEqualTo(stats.done() + stats.dropped() + stats.superseded() + stats.pending());
    }

    @Test
    void joinTurnAddsARunningTurnsMessageAndItsReplyAnswersBoth() {
        InboundMessage first = journaled(journal, inbound("c1", "alice", "m1", "write a poem"));
        InboundMessage steered = journaled(journal, inbound("c1", "bob", "m2", "about the sea"));
        Turn turn = journal.startTurn(SESSION, List.of(first), "write a poem").join();

        Turn joined = journal.joinTurn(turn, steered).join();

        assertThat(joined.id()).isEqualTo(turn.id());
        assertThat(joined.replyId()).isEqualTo(turn.replyId());
        assertThat(joined.messages()).containsExactly(first, steered);
        Reply reply = journal.completeTurn(joined, "a sea poem").join();
        assertThat(reply.inReplyTo()).containsExactly("m1", "m2");
        assertThat(reply.to()).isEqualTo("bob");
        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(journal.stats().done()).isEqualTo(2);
    }

    @Test
    void joinTurnRefusesAMessageInAnotherTurnOrNotPending() {
        InboundMessage first = journaled(journal, inbound("c1", "alice", "m1", "one"));
        InboundMessage second = journaled(journal, inbound("c1", "alice", "m2", "two"));
        Turn turn = journal.startTurn(SESSION, List.of(first), "one").join();
        Turn other = journal.startTurn(SESSION, List.of(second), "two").join();

        assertThatThrownBy(() -> journal.joinTurn(turn, second).join())
                .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("already belongs to turn " + other.id());
        assertThatThrownBy(() -> journal.joinTurn(turn, inbound("c1", "alice", "m9", "ghost").withSeq(99)).join())
                .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("not pending");
    }

    @Test
    void supersedeTurnSettlesItsMessagesWithoutAReplyOrTranscript() {
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "long task"));
        Turn turn = journal.startTurn(SESSION, List.of(message), "long task").join();

        journal.supersedeTurn(turn, "interrupted").join();

        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(journal.undeliveredReplies()).isEmpty();
        assertThat(journal.transcript(SESSION, 10)).isEmpty();
        assertThat(journal.stats().superseded()).isEqualTo(1);
        assertThat(journal.stats().done()).isZero();
    }

    @Test
    void dropMessagesSettlesThemOnceAndNeverCountsAMessageTwice() {
        InboundMessage first = journaled(journal, inbound("c1", "alice", "m1", "one"));
        InboundMessage second = journaled(journal, inbound("c1", "alice", "m2", "two"));
        InboundMessage answered = journaled(journal, inbound("c1", "alice", "m3", "three"));
        journal.completeTurn(journal.startTurn(SESSION, List.of(answered), "three").join(), "r").join();

        journal.dropMessages(List.of(first, second), "queue-cap-old").join();
        journal.dropMessages(List.of(first, answered), "stopped").join();

        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(journal.stats().dropped()).isEqualTo(2);
        assertThat(journal.stats().done()).isEqualTo(1);
    }

    @Test
    void aDroppedMessageCanNoLongerStartATurn() {
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "one"));
        journal.dropMessages(List.of(message), "queue-cap-new").join();

        assertThatThrownBy(() -> journal.startTurn(SESSION, List.of(message), "one").join())
                .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("not pending");
    }

    @Test
    void completeWithoutTurnAnswersTheMessageOutsideTheTranscript() {
        InboundMessage command = journaled(journal, inbound("c1", "alice", "m1", "/status"));

        Reply reply = journal.completeWithoutTurn(SESSION, command, "Session: ...").join();

        assertThat(reply.turnId()).isZero();
        assertThat(reply.inReplyTo()).containsExactly("m1");
        assertThat(reply).extracting(Reply::sessionKey, Reply::conversation, Reply::to, Reply::text)
                .containsExactly(SESSION, "c1", "alice", "Session: ...");
        assertThat(journal.undeliveredReplies()).containsExactly(reply);
        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(journal.transcript(SESSION, 10)).isEmpty();
        assertThat(journal.sessions(0, 100)).isEmpty();
        assertThat(journal.stats().done()).isEqualTo(1);
    }

    @Test
    void recordNoticeQueuesANoticeAddressedLikeAReplyWithoutSettlingAnything() {
        InboundMessage about = journaled(journal, new InboundMessage(0, "webhook", "default", "c1", "bob", "m1", "x",
                "thread-3", null, List.of(), 0));

        Reply first = journal.recordNotice(SESSION, about, "Ferry dropped 1 message(s)").join();
        Reply second = journal.recordNotice(SESSION, about, "Ferry dropped 2 message(s)").join();

        assertThat(first).isEqualTo(new Reply(first.replyId(), 0, SESSION, "webhook", "default", "c1", "bob", "thread-3",
                "Ferry dropped 1 message(s)", List.of()));
        assertThat(second.replyId()).isNotEqualTo(first.replyId());
        assertThat(journal.undeliveredReplies()).containsExactly(first, second);
        assertThat(journal.pendingMessages()).containsExactly(about);
    }

    @Test
    void resetSessionStartsAFreshTranscriptForThatSessionOnly() {
        completeOneTurn("c1", "m1");
        completeOneTurn("c2", "m1");

        journal.resetSession("agent:main:webhook:default:c1").join();

        assertThat(journal.transcript("agent:main:webhook:default:c1", 10)).isEmpty();
        assertThat(journal.transcript("agent:main:webhook:default:c2", 10)).hasSize(1);
        assertThat(journal.sessions(0, 100)).extracting(SessionInfo::sessionKey)
                .containsExactly("agent:main:webhook:default:c2");
        Reply afterReset = completeOneTurn("c1", "m2");
        assertThat(journal.transcript("agent:main:webhook:default:c1", 10)).extracting(Exchange::reply)
                .containsExactly(afterReset.text());
    }

    @Test
    void queueDirectiveIsStoredPerSessionAndClearedByNull() {
        QueueOverride directive = new QueueOverride(QueueMode.COLLECT, 2_000L, 3, DropPolicy.OLD);

        journal.saveQueueDirective(SESSION, directive).join();

        assertThat(journal.queueDirectives().get(SESSION)).isEqualTo(directive);
        assertThat(journal.queueDirectives().get("agent:main:webhook:default:other")).isNull();
        journal.saveQueueDirective(SESSION, null).join();
        assertThat(journal.queueDirectives().get(SESSION)).isNull();
        journal.saveQueueDirective(SESSION, new QueueOverride(null, null, null, null)).join();
        assertThat(journal.queueDirectives().get(SESSION)).as("an empty directive is no directive").isNull();
    }

    private Reply completeOneTurn(String conversation, String messageId) {
        String session = "agent:main:webhook:default:" + conversation;
        InboundMessage message = journaled(journal, inbound(conversation, "alice", messageId, "text " + messageId));
        Turn turn = journal.startTurn(session, List.of(message), message.text()).join();
        return journal.completeTurn(turn, "reply " + messageId).join();
    }
}
