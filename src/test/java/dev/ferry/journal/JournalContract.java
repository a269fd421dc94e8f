package dev.ferry.journal;

import static dev.ferry.journal.TestMessages.inbound;
import static dev.ferry.journal.TestMessages.withEverything;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueOverride;
import dev.ferry.time.WallClock;

/**
 * What every {@link Journal} engine does, asked of each the same way: each engine's test extends this
 * class and says how to open a journal and how the next start finds it. What only one engine has (a file
 * that survives a crash, fault injection, the file's identity) stays in that engine's own tests.
 *
 * <p>Every time an engine stores comes from {@link #clock}, which stands still unless a case moves it: as
 * if every write landed in the same millisecond, the hardest case for ordering by time.
 */
public abstract class JournalContract {

    protected static final String SESSION = session("c1");
    private static final QueueOverride DIRECTIVE = new QueueOverride(QueueMode.FOLLOWUP, 500L, 3, DropPolicy.OLD);

    protected final ManualWallClock clock = new ManualWallClock(1_800_000_000_000L);
    private final List<Journal> opened = new ArrayList<>();

    /** A new, empty journal of the engine under test, dated by {@code clock}. */
    protected abstract Journal newJournal(WallClock clock);

    /**
     * {@code journal} as the next start finds it: a durable engine closes it and opens it again; an engine
     * that keeps nothing past the process hands back the same journal, so the case still checks what it
     * reads back.
     */
    protected abstract Journal reopened(Journal journal);

    /**
     * Runs {@code submit} while no write of {@code journal} can complete (its writer or its completion thread
     * is held), so a callback {@code submit} adds is in place before its write completes; then lets them go.
     */
    protected abstract <T> T whileNoWriteCanComplete(Journal journal, Supplier<T> submit);

    @AfterEach
    void closeEveryJournal() {
        opened.forEach(Journal::close);
    }

    // ---- append and dedupe ------------------------------------------------------------------------------

    @Test
    void appendAssignsIncreasingSeqsAndReportsDuplicatesWithTheFirstSeq() {
        Journal journal = open();

        AppendResult first = await(journal.append(inbound("c1", "alice", "m1", "one")));
        AppendResult second = await(journal.append(inbound("c2", "bob", "m1", "two")));
        AppendResult third = await(journal.append(inbound("c1", "alice", "m2", "three")));
        AppendResult again = await(journal.append(inbound("c1", "alice", "m1", "resent with other text")));

        assertThat(List.of(first, second, third)).extracting(AppendResult::duplicate).containsOnly(false);
        assertThat(second.seq()).isGreaterThan(first.seq());
        assertThat(third.seq()).isGreaterThan(second.seq());
        assertThat(again).isEqualTo(new AppendResult(first.seq(), true));
        assertThat(journal.pendingMessages())
                .extracting(InboundMessage::seq, InboundMessage::text)
                .containsExactly(tuple(first.seq(), "one"), tuple(second.seq(), "two"), tuple(third.seq(), "three"));
        assertThat(journal.stats().duplicates()).isEqualTo(1);
        assertThat(journal.stats().received()).isEqualTo(3);
    }

    @Test
    void appendAllCommitsTheMessagesWithTheChannelsCursorWhichTheNextStartReadsBack() {
        Journal journal = open();
        assertThat(journal.cursor(TestMessages.CHANNEL, TestMessages.ACCOUNT)).isEmpty();

        List<AppendResult> first = await(journal.appendAll(List.of(inbound("c1", "alice", "11", "one"),
                inbound("c2", "bob", "12", "two")), new ChannelCursor(TestMessages.CHANNEL, TestMessages.ACCOUNT, "13")));
        Journal next = reopened(journal);
        List<AppendResult> second = await(next.appendAll(List.of(inbound("c1", "alice", "11", "one, sent again"),
                inbound("c1", "alice", "13", "three")), new ChannelCursor(TestMessages.CHANNEL, TestMessages.ACCOUNT, "14")));

        assertThat(first).extracting(AppendResult::duplicate).containsExactly(false, false);
        assertThat(second).extracting(AppendResult::duplicate).containsExactly(true, false);
        assertThat(second.get(0).seq()).isEqualTo(first.get(0).seq());
        assertThat(next.cursor(TestMessages.CHANNEL, TestMessages.ACCOUNT)).contains("14");
        assertThat(next.cursor(TestMessages.CHANNEL, "another-bot")).isEmpty();
        assertThat(next.pendingMessages()).extracting(InboundMessage::text).containsExactly("one", "two", "three");
    }

    @Test
    void duplicateMessageIdInSameConversationIsReportedWithFirstSeq() {
        Journal journal = open();
        AppendResult first = await(journal.append(inbound("c1", "alice", "m1", "original")));
        await(journal.append(inbound("c1", "alice", "m2", "other")));

        AppendResult again = await(journal.append(inbound("c1", "alice", "m1", "resent with other text")));

        assertThat(again).isEqualTo(new AppendResult(first.seq(), true));
        assertThat(journal.pendingMessages()).extracting(InboundMessage::text).containsExactly("original", "other");
        assertThat(journal.stats().duplicates()).isEqualTo(1);
        assertThat(journal.stats().received()).isEqualTo(2);
    }

    @Test
    void sameMessageIdInAnotherConversationIsNotADuplicate() {
        Journal journal = open();

        AppendResult first = await(journal.append(inbound("c1", "alice", "m1", "a")));
        AppendResult otherConversation = await(journal.append(inbound("c2", "alice", "m1", "b")));
        AppendResult otherChannel = await(journal.append(new InboundMessage(0, "telegram", "default", "c1", "alice", "m1",
                "c", null, null, List.of(), 0)));
        AppendResult otherAccount = await(journal.append(new InboundMessage(0, "webhook", "second", "c1", "alice", "m1",
                "d", null, null, List.of(), 0)));

        assertThat(List.of(otherConversation, otherChannel, otherAccount))
                .extracting(AppendResult::duplicate).containsOnly(false);
        assertThat(List.of(first, otherConversation, otherChannel, otherAccount))
                .extracting(AppendResult::seq).doesNotHaveDuplicates();
        assertThat(journal.pendingMessages()).hasSize(4);
        assertThat(journal.pendingMessages()).extracting(InboundMessage::text).containsExactly("a", "b", "c", "d");
        assertThat(journal.stats().duplicates()).isZero();
    }

    @Test
    void duplicateIsRecognisedAfterTheMessageIsDone() {
        Journal journal = open();
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "hi"));
        Turn turn = await(journal.startTurn(SESSION, List.of(message), "hi"));
        await(journal.completeTurn(turn, "hello"));

        AppendResult again = await(journal.append(inbound("c1", "alice", "m1", "hi")));

        assertThat(again).isEqualTo(new AppendResult(message.seq(), true));
        assertThat(journal.pendingMessages()).isEmpty();
    }

    @Test
    void duplicateIsStillFoundAfterReopening() {
        Journal journal = open();
        InboundMessage answered = journaled(journal, inbound("c1", "alice", "m1", "hi"));
        InboundMessage waiting = journaled(journal, inbound("c1", "alice", "m2", "still pending"));
        await(journal.completeTurn(await(journal.startTurn(SESSION, List.of(answered), "hi")), "hello"));
        await(journal.append(inbound("c1", "alice", "m2", "resent before the restart")));

        journal = reopen(journal);
        AppendResult answeredAgain = await(journal.append(inbound("c1", "alice", "m1", "hi")));
        AppendResult waitingAgain = await(journal.append(inbound("c1", "alice", "m2", "still pending")));

        assertThat(answeredAgain).as("a done message is remembered, not only a pending one")
                .isEqualTo(new AppendResult(answered.seq(), true));
        assertThat(waitingAgain).isEqualTo(new AppendResult(waiting.seq(), true));
        assertThat(journal.pendingMessages()).containsExactly(waiting);
        assertThat(journal.stats().duplicates()).as("the count survives the restart too").isEqualTo(3);
        assertThat(journal.stats().received()).isEqualTo(2);
    }

    // ---- completion: after the commit, off the caller's thread, in commit order ---------------------------

    @Test
    void aWriteCompletesAfterItsCommitOnTheJournalsCompletionThreadInCommitOrder() {
        Journal journal = open();
        Thread caller = Thread.currentThread();
        List<Thread> completedOn = Collections.synchronizedList(new ArrayList<>());
        List<Long> completedSeqs = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
        List<CompletableFuture<?>> callbacks = new ArrayList<>();
        CompletableFuture<Turn> chained = whileNoWriteCanComplete(journal, () -> {
            for (int i = 0; i < 50; i++) {
                CompletableFuture<AppendResult> append = journal.append(inbound("c1", "alice", "m" + i, "text " + i));
                appends.add(append);
                callbacks.add(append.thenAccept(result -> {
                    completedOn.add(Thread.currentThread());
                    completedSeqs.add(result.seq());
                }));
            }
            // A callback that writes again must not wait on the journal that is completing it.
            return appends.get(0).thenCompose(result -> journal.startTurn(SESSION,
                    List.of(inbound("c1", "alice", "m0", "text 0").withSeq(result.seq())), "text 0"));
        });
        await(CompletableFuture.allOf(callbacks.toArray(CompletableFuture[]::new)));

        assertThat(await(chained).messages()).extracting(InboundMessage::messageId).containsExactly("m0");
        assertThat(completedSeqs).as("completed in the order committed")
                .isEqualTo(appends.stream().map(append -> append.join().seq()).toList());
        assertThat(completedOn).hasSize(50).doesNotContain(caller);
        assertThat(new HashSet<>(completedOn)).as("one completion thread").hasSize(1);
    }

    // ---- concurrency --------------------------------------------------------------------------------------

    @Test
    void concurrentAppendsAllCommitWithDistinctSeqsAndCompleteInSeqOrderPerThread() throws Exception {
        int threads = 8;
        int perThread = 250;
        Journal journal = open();
        List<List<CompletableFuture<AppendResult>>> submitted = new ArrayList<>();
        List<List<Long>> completedSeqs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            submitted.add(new ArrayList<>());
            completedSeqs.add(Collections.synchronizedList(new ArrayList<>()));
        }
        // The recording callbacks, waited for themselves: a future can count as complete to allOf before its
        // own callbacks have run.
        List<CompletableFuture<Void>> recorded = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> senders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                senders.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        CompletableFuture<AppendResult> future =
                                journal.append(inbound("c" + thread, "sender" + thread, "m" + i, thread + "/" + i));
                        recorded.add(future.thenAccept(result -> completedSeqs.get(thread).add(result.seq())));
                        submitted.get(thread).add(future);
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> sender : senders) {
                sender.get(10, SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        List<CompletableFuture<AppendResult>> all = submitted.stream().flatMap(List::stream).toList();
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, SECONDS);
        CompletableFuture.allOf(recorded.toArray(CompletableFuture[]::new)).get(10, SECONDS);

        Map<Long, String> textBySeq = new HashMap<>();
        for (int t = 0; t < threads; t++) {
            List<Long> seqsInSubmitOrder = submitted.get(t).stream().map(f -> f.join().seq()).toList();
            assertThat(submitted.get(t)).extracting(f -> f.join().duplicate()).containsOnly(false);
            assertThat(seqsInSubmitOrder).as("thread %d: seqs follow its own order of appends", t).isSorted();
            // Futures complete in commit order, so each thread sees its appends acknowledged in the order it made them.
            assertThat(completedSeqs.get(t)).as("thread %d: completion order", t).isEqualTo(seqsInSubmitOrder);
            for (int i = 0; i < perThread; i++) {
                textBySeq.put(seqsInSubmitOrder.get(i), t + "/" + i);
            }
        }
        assertThat(textBySeq).as("every append has a seq of its own").hasSize(threads * perThread);
        List<InboundMessage> pending = journal.pendingMessages();
        assertThat(pending).extracting(InboundMessage::seq).isSorted().hasSize(threads * perThread);
        assertThat(pending).allSatisfy(message -> assertThat(message.text()).isEqualTo(textBySeq.get(message.seq())));
        assertThat(journal.stats().received()).isEqualTo(threads * perThread);
    }

    @Test
    void concurrentCopiesOfOneMessageAreJournaledOnce() throws Exception {
        int threads = 8;
        int messages = 100;
        Journal journal = open();
        List<CompletableFuture<AppendResult>> results = Collections.synchronizedList(new ArrayList<>());
        Map<CompletableFuture<AppendResult>, String> messageIdOf = Collections.synchronizedMap(new HashMap<>());
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> senders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                senders.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < messages; i++) {
                        CompletableFuture<AppendResult> future = journal.append(inbound("c1", "alice", "m" + i, "copy"));
                        messageIdOf.put(future, "m" + i);
                        results.add(future);
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> sender : senders) {
                sender.get(10, SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(10, SECONDS);

        Map<String, Set<Long>> seqsByMessageId = new HashMap<>();
        Map<String, Integer> firstsByMessageId = new HashMap<>();
        for (CompletableFuture<AppendResult> future : results) {
            String messageId = messageIdOf.get(future);
            seqsByMessageId.computeIfAbsent(messageId, id -> new HashSet<>()).add(future.join().seq());
            if (!future.join().duplicate()) {
                firstsByMessageId.merge(messageId, 1, Integer::sum);
            }
        }
        assertThat(firstsByMessageId).hasSize(messages).allSatisfy((id, firsts) -> assertThat(firsts).isEqualTo(1));
        assertThat(seqsByMessageId).allSatisfy((id, seqs) -> assertThat(seqs).as("seqs reported for %s", id).hasSize(1));
        assertThat(journal.stats().received()).isEqualTo(messages);
        assertThat(journal.stats().duplicates()).isEqualTo((long) messages * (threads - 1));
    }

    @Test
    void aRefusedWriteSpoilsNoOtherWriteCommittedWithIt() {
        Journal journal = open();
        InboundMessage taken = journaled(journal, inbound("c1", "alice", "m0", "taken"));
        await(journal.startTurn(SESSION, List.of(taken), "taken"));

        // Submitted back to back, so a group-committing writer is busy with the first while the rest queue up
        // and share a commit with the refused one.
        List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
        CompletableFuture<Turn> refused = null;
        for (int i = 1; i <= 200; i++) {
            appends.add(journal.append(inbound("c1", "alice", "m" + i, "text " + i)));
            if (i == 150) {
                refused = journal.startTurn(SESSION, List.of(taken), "taken again");
            }
        }
        CompletableFuture<Turn> refusedTurn = refused;

        assertThatThrownBy(() -> await(refusedTurn)).hasCauseInstanceOf(IllegalStateException.class);
        List<Long> seqs = appends.stream().map(append -> await(append)).map(AppendResult::seq).toList();
        assertThat(seqs).as("every other write committed, in the order it was made").isSorted().doesNotHaveDuplicates();
        assertThat(appends).extracting(append -> append.join().duplicate()).containsOnly(false);
        for (int i = 1; i <= 200; i++) {
            AppendResult again = await(journal.append(inbound("c1", "alice", "m" + i, "text " + i)));
            assertThat(again).as("m" + i + " after the batch was rolled back and replayed")
                    .isEqualTo(new AppendResult(seqs.get(i - 1), true));
        }
        journal = reopen(journal);
        assertThat(journal.pendingMessages()).hasSize(201);
        assertThat(journal.openTurns()).extracting(Turn::prompt).containsExactly("taken");
    }

    // ---- turns --------------------------------------------------------------------------------------------

    @Test
    void startTurnFixesInputsAndRefusesAMessageAlreadyInAnotherTurnOrNotPending() {
        Journal journal = open();
        InboundMessage first = journaled(journal, inbound("c1", "alice", "m1", "one"));
        InboundMessage second = journaled(journal, inbound("c1", "alice", "m2", "two"));
        Turn turn = await(journal.startTurn(SESSION, List.of(first), "one"));

        assertThat(turn.sessionKey()).isEqualTo(SESSION);
        assertThat(turn.messages()).containsExactly(first);
        assertThat(turn.prompt()).isEqualTo("one");
        assertThatThrownBy(() -> await(journal.startTurn(SESSION, List.of(second, first), "two\none")))
                .isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("seq=" + first.seq());
        assertThatThrownBy(() -> await(journal.startTurn(SESSION, List.of(inbound("c1", "a", "m9", "x").withSeq(99)), "x")))
                .hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not pending");
        assertThat(journal.openTurns()).as("the refused turns left nothing behind").containsExactly(turn);
        // The refused turn claimed nothing: the second message can still have a turn of its own.
        Turn secondTurn = await(journal.startTurn(SESSION, List.of(second), "two"));
        assertThat(secondTurn.messages()).containsExactly(second);
        assertThat(secondTurn.id()).isGreaterThan(turn.id());
        assertThat(secondTurn.replyId()).isNotEqualTo(turn.replyId());
    }

    @Test
    void openTurnsListsEveryStartedTurnNeitherCompletedNorSupersededOldestFirst() {
        Journal journal = open();
        Turn completed = await(journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m1", "x"))), "x"));
        Turn older = await(journal.startTurn(session("c2"), List.of(journaled(journal, inbound("c2", "a", "m1", "y"))), "y"));
        Turn superseded = await(journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m2", "z"))), "z"));
        Turn newer = await(journal.startTurn(session("c3"), List.of(journaled(journal, inbound("c3", "a", "m1", "w"))), "w"));

        await(journal.completeTurn(completed, "done"));
        await(journal.supersedeTurn(superseded, "interrupted"));

        assertThat(journal.openTurns()).containsExactly(older, newer);
    }

    @Test
    void joinTurnAppendsTheMessageAndItsTextToThePrompt() {
        Journal journal = open();
        InboundMessage first = journaled(journal, inbound("c1", "alice", "m1", "write a poem"));
        InboundMessage steered = journaled(journal, inbound("c1", "bob", "m2", "about the sea"));
        InboundMessage elsewhere = journaled(journal, inbound("c1", "carol", "m3", "in another turn"));
        Turn turn = await(journal.startTurn(SESSION, List.of(first), "write a poem"));
        Turn other = await(journal.startTurn(SESSION, List.of(elsewhere), "in another turn"));

        Turn joined = await(journal.joinTurn(turn, steered));

        assertThat(joined).isEqualTo(new Turn(turn.id(), turn.replyId(), SESSION, List.of(first, steered),
                "write a poem\nabout the sea"));
        assertThatThrownBy(() -> await(journal.joinTurn(turn, elsewhere)))
                .hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("seq=" + elsewhere.seq());
        Journal reopened = reopen(journal);
        assertThat(reopened.openTurns()).as("the joined turn is what a restart runs again").containsExactly(joined, other);
        Reply reply = await(reopened.completeTurn(reopened.openTurns().get(0), "a sea poem"));
        assertThat(reply.inReplyTo()).containsExactly("m1", "m2");
        assertThat(reply.to()).isEqualTo("bob");
        assertThat(reopened.transcript(SESSION, 10)).extracting(Exchange::prompt)
                .containsExactly("write a poem\nabout the sea");
    }

    @Test
    void joinTurnAddsARunningTurnsMessageAndItsReplyAnswersBoth() {
        Journal journal = open();
        InboundMessage first = journaled(journal, inbound("c1", "alice", "m1", "write a poem"));
        InboundMessage steered = journaled(journal, inbound("c1", "bob", "m2", "about the sea"));
        Turn turn = await(journal.startTurn(SESSION, List.of(first), "write a poem"));

        Turn joined = await(journal.joinTurn(turn, steered));

        assertThat(joined.id()).isEqualTo(turn.id());
        assertThat(joined.replyId()).isEqualTo(turn.replyId());
        assertThat(joined.messages()).containsExactly(first, steered);
        Reply reply = await(journal.completeTurn(joined, "a sea poem"));
        assertThat(reply.inReplyTo()).containsExactly("m1", "m2");
        assertThat(reply.to()).isEqualTo("bob");
        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(journal.stats().done()).isEqualTo(2);
    }

    @Test
    void joinTurnRefusesAMessageInAnotherTurnOrNotPending() {
        Journal journal = open();
        InboundMessage first = journaled(journal, inbound("c1", "alice", "m1", "one"));
        InboundMessage second = journaled(journal, inbound("c1", "alice", "m2", "two"));
        Turn turn = await(journal.startTurn(SESSION, List.of(first), "one"));
        Turn other = await(journal.startTurn(SESSION, List.of(second), "two"));

        assertThatThrownBy(() -> await(journal.joinTurn(turn, second)))
                .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("already belongs to turn " + other.id());
        assertThatThrownBy(() -> await(journal.joinTurn(turn, inbound("c1", "alice", "m9", "ghost").withSeq(99))))
                .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("not pending");
    }

    @Test
    void completeTurnMarksDoneAppendsTranscriptAndFillsOutbox() {
        Journal journal = open();
        InboundMessage first = journaled(journal, inbound("c1", "alice", "m1", "hello"));
        InboundMessage last = journaled(journal, new InboundMessage(0, "webhook", "default", "c1", "bob", "m2",
                "there", "thread-9", null, List.of(), 0));
        InboundMessage unrelated = journaled(journal, inbound("c2", "carol", "m3", "elsewhere"));
        Turn turn = await(journal.startTurn(SESSION, List.of(first, last), "hello\nthere"));

        Reply reply = await(journal.completeTurn(turn, "echo: hello\nthere"));

        assertThat(reply).isEqualTo(new Reply(turn.replyId(), turn.id(), SESSION, "webhook", "default", "c1", "bob",
                "thread-9", "echo: hello\nthere", List.of("m1", "m2")));
        journal = reopen(journal);
        assertThat(journal.pendingMessages()).containsExactly(unrelated);
        assertThat(journal.openTurns()).isEmpty();
        assertThat(journal.transcript(SESSION, 10))
                .extracting(Exchange::turnId, Exchange::prompt, Exchange::reply)
                .containsExactly(tuple(turn.id(), "hello\nthere", "echo: hello\nthere"));
        assertThat(journal.transcript(SESSION, 10)).extracting(Exchange::completedAtEpochMs).containsOnly(clock.epochMillis());
        assertThat(journal.undeliveredReplies()).containsExactly(reply);
    }

    @Test
    void completingATurnTwiceKeepsItsFirstReplyInTheOutbox() {
        Journal journal = open();
        Turn turn = await(journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m1", "x"))), "x"));

        Reply first = await(journal.completeTurn(turn, "first answer"));
        await(journal.completeTurn(turn, "second answer"));

        assertThat(journal.undeliveredReplies()).containsExactly(first);
        assertThat(journal.stats().done()).isEqualTo(1);
    }

    @Test
    void supersedeTurnSettlesItsMessagesWithoutAReplyOrTranscript() {
        Journal journal = open();
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "long task"));
        Turn turn = await(journal.startTurn(SESSION, List.of(message), "long task"));

        await(journal.supersedeTurn(turn, "interrupted"));

        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(journal.openTurns()).isEmpty();
        assertThat(journal.undeliveredReplies()).isEmpty();
        assertThat(journal.transcript(SESSION, 10)).isEmpty();
        assertThat(journal.stats().superseded()).isEqualTo(1);
        assertThat(journal.stats().done()).isZero();
    }

    @Test
    void dropMessagesSettlesThemOnceAndNeverCountsAMessageTwice() {
        Journal journal = open();
        InboundMessage first = journaled(journal, inbound("c1", "alice", "m1", "one"));
        InboundMessage second = journaled(journal, inbound("c1", "alice", "m2", "two"));
        InboundMessage answered = journaled(journal, inbound("c1", "alice", "m3", "three"));
        await(journal.completeTurn(await(journal.startTurn(SESSION, List.of(answered), "three")), "r"));

        await(journal.dropMessages(List.of(first, second), "queue-cap-old"));
        await(journal.dropMessages(List.of(first, answered), "stopped"));

        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(journal.stats().dropped()).isEqualTo(2);
        assertThat(journal.stats().done()).isEqualTo(1);
    }

    @Test
    void aSettledMessageCanNoLongerStartATurn() {
        Journal journal = open();
        InboundMessage dropped = journaled(journal, inbound("c1", "alice", "m1", "one"));
        InboundMessage superseded = journaled(journal, inbound("c1", "alice", "m2", "two"));
        await(journal.dropMessages(List.of(dropped), "queue-cap-new"));
        await(journal.supersedeTurn(await(journal.startTurn(SESSION, List.of(superseded), "two")), "interrupted"));

        Journal reopened = reopen(journal);
        for (InboundMessage settled : List.of(dropped, superseded)) {
            assertThatThrownBy(() -> await(reopened.startTurn(SESSION, List.of(settled), "again")))
                    .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("not pending");
        }
        assertThat(reopened.stats()).isEqualTo(new JournalStats(2, 0, 0, 1, 1, 0, 0, 0));
    }

    @Test
    void markDeliveredEmptiesOutbox() {
        Journal journal = open();
        Reply first = completeOneTurn(journal, "c1", "m1");
        Reply second = completeOneTurn(journal, "c1", "m2");
        assertThat(journal.undeliveredReplies()).containsExactly(first, second);

        await(journal.markDelivered(first.replyId()));
        assertThat(journal.undeliveredReplies()).containsExactly(second);
        journal = reopen(journal);
        assertThat(journal.undeliveredReplies()).as("delivered stays delivered after a restart").containsExactly(second);

        await(journal.markDelivered(second.replyId()));
        await(journal.markDelivered("never-existed"));
        assertThat(journal.undeliveredReplies()).isEmpty();
        assertThat(journal.stats().outboxPending()).isZero();
    }

    // ---- reply ids ----------------------------------------------------------------------------------------

    @Test
    void replyIdsDifferBetweenJournalInstances() {
        Journal journal = open();
        Journal other = open();

        Turn here = await(journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m1", "x"))), "x"));
        Turn there = await(other.startTurn(SESSION, List.of(journaled(other, inbound("c1", "a", "m1", "x"))), "x"));

        assertThat(here.id()).isEqualTo(there.id());
        assertThat(here.replyId()).isNotEqualTo(there.replyId());
        assertThat(prefix(here.replyId())).as("each journal has an instance id of its own")
                .isNotEqualTo(prefix(there.replyId()));
    }

    @Test
    void replyIdsDifferBetweenTurnsOfOneJournal() {
        Journal journal = open();
        Turn first = await(journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m1", "x"))), "x"));
        Turn second = await(journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m2", "y"))), "y"));

        assertThat(first.replyId()).isNotEqualTo(second.replyId());
    }

    @Test
    void aTurnsReplyIdIsTheSameWhenTheNextStartRunsItAgain() {
        Journal journal = open();
        Turn before = await(journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m1", "x"))), "x"));

        journal = reopen(journal);
        Reply reply = await(journal.completeTurn(journal.openTurns().get(0), "answered after the restart"));

        assertThat(reply.replyId()).isEqualTo(before.replyId());
    }

    @Test
    void aFailedTurnIsAnsweredWithItsErrorReplyOutsideTheTranscriptAndNeverRunsAgain() {
        Journal journal = open();
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "x"));
        Turn turn = await(journal.startTurn(SESSION, List.of(message), "x"));

        Reply reply = await(journal.failTurn(turn, "The agent could not answer.", "agent-error: timeout"));

        assertThat(reply.replyId()).isEqualTo(turn.replyId());
        assertThat(reply.inReplyTo()).containsExactly("m1");
        assertThat(journal.undeliveredReplies()).extracting(Reply::text).containsExactly("The agent could not answer.");
        assertThat(journal.transcript(SESSION, 10)).as("the agent never sees its failure as its own words").isEmpty();
        assertThat(journal.stats().done()).as("accounted for: answered, with an error").isEqualTo(1);
        assertThat(journal.stats().pending()).isZero();
        journal = reopen(journal);
        assertThat(journal.openTurns()).isEmpty();
        assertThat(journal.pendingMessages()).isEmpty();
        await(journal.completeTurn(turn, "a late reply"));
        assertThat(journal.undeliveredReplies()).as("the first reply stays").extracting(Reply::text)
                .containsExactly("The agent could not answer.");
    }

    @Test
    void seqsAndReplyIdsAreNeverReusedAfterPrune() {
        Journal journal = open();
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "x"));
        Reply reply = await(journal.completeTurn(await(journal.startTurn(SESSION, List.of(message), "x")), "r"));
        await(journal.markDelivered(reply.replyId()));
        await(journal.prune(clock.epochMillis() + 60_000, 20));

        journal = reopen(journal);
        InboundMessage next = journaled(journal, inbound("c1", "alice", "m2", "y"));
        Turn nextTurn = await(journal.startTurn(SESSION, List.of(next), "y"));

        assertThat(next.seq()).isGreaterThan(message.seq());
        assertThat(nextTurn.replyId()).as("an idempotent receiver would drop a reused reply id")
                .isNotEqualTo(reply.replyId());
    }

    // ---- replay after a restart ---------------------------------------------------------------------------

    @Test
    void openTurnsAfterReopenHoldTheSameTurnWithItsMessagesAndPrompt() {
        Journal journal = open();
        InboundMessage first = journaled(journal, withEverything("c1", "alice", "m1", "look at this", 1_700_000_000_001L));
        InboundMessage second = journaled(journal, withEverything("c1", "alice", "m2", "and this ✓ ünïcode", 1_700_000_000_002L));
        InboundMessage third = journaled(journal, inbound("c2", "bob", "m1", "other session"));
        InboundMessage notInATurn = journaled(journal, inbound("c3", "carol", "m1", "still queued"));
        Turn older = await(journal.startTurn(SESSION, List.of(first, second), "look at this\nand this ✓ ünïcode"));
        Turn newer = await(journal.startTurn(session("c2"), List.of(third), "other session"));
        Turn finished = await(journal.startTurn(session("c3"), List.of(notInATurn), "still queued"));
        await(journal.completeTurn(finished, "done"));

        journal = reopen(journal);

        assertThat(journal.openTurns()).containsExactly(older, newer);
        assertThat(journal.pendingMessages()).as("a turn's messages stay pending until it completes")
                .containsExactly(first, second, third);
    }

    @Test
    void pendingMessagesAfterReopenAreInSeqOrder() {
        Journal journal = open();
        List<InboundMessage> expected = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            InboundMessage message = i % 2 == 0
                    ? withEverything("c" + (i % 3), "sender" + i, "m" + i, "text " + i, 1_700_000_000_000L + i)
                    : inbound("c" + (i % 3), "sender" + i, "m" + i, "text " + i);
            expected.add(journaled(journal, message));
        }
        expected.add(journaled(journal, new InboundMessage(0, "webhook", "default", "c1", "dora", "photo", "", null, null,
                List.of(new Media("https://media.example/photo.png", "image/png")), 1_700_000_000_100L)));
        await(journal.dropMessages(List.of(expected.get(3)), "queue-cap-new"));
        expected.remove(3);

        journal = reopen(journal);

        assertThat(journal.pendingMessages()).containsExactlyElementsOf(expected);
        assertThat(journal.pendingMessages().get(0).media())
                .containsExactly(new Media("https://media.example/m0.jpg", "image/jpeg"),
                        new Media("https://media.example/m0.bin", null));
        assertThat(journal.pendingMessages().get(0).threadId()).isEqualTo("thread-c0");
    }

    // ---- settling every message ---------------------------------------------------------------------------

    @Test
    void statsAccountForEveryMessage() {
        Journal journal = open();
        InboundMessage done = journaled(journal, inbound("c1", "alice", "m1", "one"));
        journaled(journal, inbound("c1", "alice", "m2", "two"));
        journaled(journal, inbound("c2", "bob", "m1", "three"));
        await(journal.append(inbound("c1", "alice", "m1", "one again")));
        await(journal.append(inbound("c1", "alice", "m1", "and again")));
        await(journal.completeTurn(await(journal.startTurn(SESSION, List.of(done), "one")), "r"));

        JournalStats stats = journal.stats();

        assertThat(stats).isEqualTo(new JournalStats(3, 2, 1, 0, 0, 2, 1, 0));
        assertThat(stats.received()).isEqualTo(stats.done() + stats.pending());
    }

    @Test
    void statsAccountForEveryMessageWhateverBecameOfIt() {
        Journal journal = open();
        InboundMessage answered = journaled(journal, inbound("c1", "alice", "m1", "one"));
        InboundMessage command = journaled(journal, inbound("c1", "alice", "m2", "/status"));
        InboundMessage dropped = journaled(journal, inbound("c1", "alice", "m3", "three"));
        InboundMessage superseded = journaled(journal, inbound("c1", "alice", "m4", "four"));
        journaled(journal, inbound("c1", "alice", "m5", "five"));
        await(journal.append(inbound("c1", "alice", "m1", "one again")));
        await(journal.completeTurn(await(journal.startTurn(SESSION, List.of(answered), "one")), "r"));
        await(journal.completeWithoutTurn(SESSION, command, "status"));
        await(journal.dropMessages(List.of(dropped), "queue-cap-new"));
        await(journal.supersedeTurn(await(journal.startTurn(SESSION, List.of(superseded), "four")), "interrupted"));
        await(journal.recordNotice(SESSION, dropped, "Ferry dropped 1 message(s)"));

        JournalStats stats = journal.stats();
        journal = reopen(journal);

        assertThat(stats).isEqualTo(new JournalStats(5, 1, 2, 1, 1, 1, 3, 0));
        assertThat(stats.received()).isEqualTo(stats.done() + stats.dropped() + stats.superseded() + stats.pending());
        assertThat(journal.stats()).as("after a restart").isEqualTo(stats);
    }

    @Test
    void completeWithoutTurnAndRecordNoticeGoToTheOutbox() {
        Journal journal = open();
        InboundMessage command = journaled(journal, inbound("c1", "alice", "m1", "/status"));
        InboundMessage about = journaled(journal, new InboundMessage(0, "webhook", "default", "c1", "bob", "m2", "x",
                "thread-3", null, List.of(), 0));

        Reply answer = await(journal.completeWithoutTurn(SESSION, command, "Session: ..."));
        Reply notice = await(journal.recordNotice(SESSION, about, "Ferry dropped 1 message(s)"));
        Reply secondNotice = await(journal.recordNotice(SESSION, about, "Ferry dropped 2 message(s)"));

        assertThat(answer).isEqualTo(new Reply(answer.replyId(), 0, SESSION, "webhook", "default", "c1", "alice", null,
                "Session: ...", List.of("m1")));
        assertThat(notice).isEqualTo(new Reply(notice.replyId(), 0, SESSION, "webhook", "default", "c1", "bob", "thread-3",
                "Ferry dropped 1 message(s)", List.of()));
        assertThat(List.of(answer.replyId(), notice.replyId(), secondNotice.replyId())).doesNotHaveDuplicates();
        journal = reopen(journal);
        assertThat(journal.undeliveredReplies()).containsExactly(answer, notice, secondNotice);
        assertThat(journal.pendingMessages()).as("a notice settles nothing").containsExactly(about);
        assertThat(journal.transcript(SESSION, 10)).as("a command does not touch the transcript").isEmpty();
        assertThat(journal.sessions(0, 100)).isEmpty();
        assertThat(journal.stats().done()).isEqualTo(1);
    }

    @Test
    void completeWithoutTurnAnswersTheMessageOutsideTheTranscript() {
        Journal journal = open();
        InboundMessage command = journaled(journal, inbound("c1", "alice", "m1", "/status"));

        Reply reply = await(journal.completeWithoutTurn(SESSION, command, "Session: ..."));

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
        Journal journal = open();
        InboundMessage about = journaled(journal, new InboundMessage(0, "webhook", "default", "c1", "bob", "m1", "x",
                "thread-3", null, List.of(), 0));

        Reply first = await(journal.recordNotice(SESSION, about, "Ferry dropped 1 message(s)"));
        Reply second = await(journal.recordNotice(SESSION, about, "Ferry dropped 2 message(s)"));

        assertThat(first).isEqualTo(new Reply(first.replyId(), 0, SESSION, "webhook", "default", "c1", "bob", "thread-3",
                "Ferry dropped 1 message(s)", List.of()));
        assertThat(second.replyId()).isNotEqualTo(first.replyId());
        assertThat(journal.undeliveredReplies()).containsExactly(first, second);
        assertThat(journal.pendingMessages()).containsExactly(about);
    }

    // ---- failed replies -----------------------------------------------------------------------------------

    @Test
    void aFailedReplyLeavesTheUndeliveredAndIsListedNewestFirstWithItsReason() {
        Journal journal = open();
        Reply first = completeOneTurn(journal, "c1", "m1");
        Reply second = completeOneTurn(journal, "c1", "m2");
        Reply third = completeOneTurn(journal, "c2", "m1");

        await(journal.markFailed(first.replyId(), "HTTP 400: unknown chat"));
        await(journal.markFailed(third.replyId(), "HTTP 410"));

        assertThat(journal.undeliveredReplies()).containsExactly(second);
        assertThat(journal.failedReplies(10)).extracting(FailedReply::reply).containsExactly(third, first);
        assertThat(journal.failedReplies(10)).extracting(FailedReply::reason).containsExactly("HTTP 410", "HTTP 400: unknown chat");
        assertThat(journal.failedReplies(10)).allSatisfy(failed -> assertThat(failed.failedAtEpochMs()).isPositive());
        assertThat(journal.failedReplies(10)).extracting(FailedReply::failedAtEpochMs).containsOnly(clock.epochMillis());
        assertThat(journal.failedReplies(1)).extracting(FailedReply::reply).containsExactly(third);
        assertThat(journal.stats().outboxPending()).isOne();
        assertThat(journal.stats().outboxFailed()).isEqualTo(2);
    }

    @Test
    void failedRepliesComeNewestFailureFirst() {
        Journal journal = open();
        Reply first = completeOneTurn(journal, "c1", "m1");
        Reply second = completeOneTurn(journal, "c2", "m1");

        await(journal.markFailed(second.replyId(), "HTTP 400"));
        clock.advance(1_000);
        await(journal.markFailed(first.replyId(), "HTTP 403"));

        assertThat(journal.failedReplies(10)).extracting(FailedReply::reply).containsExactly(first, second);
    }

    @Test
    void requeueingMakesOnlyAFailedReplyUndeliveredAgainAndOnlyOnce() {
        Journal journal = open();
        Reply failed = completeOneTurn(journal, "c1", "m1");
        Reply pending = completeOneTurn(journal, "c2", "m1");
        await(journal.markFailed(failed.replyId(), "HTTP 404"));

        assertThat(await(journal.requeueFailed(failed.replyId()))).contains(failed);
        assertThat(await(journal.requeueFailed(failed.replyId()))).isEmpty();
        assertThat(await(journal.requeueFailed(pending.replyId()))).isEmpty();
        assertThat(await(journal.requeueFailed("fr-nobody-1"))).isEmpty();

        assertThat(journal.undeliveredReplies()).containsExactlyInAnyOrder(failed, pending);
        assertThat(journal.undeliveredReplies()).as("a requeued reply takes its old place").containsExactly(failed, pending);
        assertThat(journal.failedReplies(10)).isEmpty();
        assertThat(journal.stats().outboxFailed()).isZero();
    }

    @Test
    void aFailedReplyStaysFailedAcrossARestart() {
        Journal journal = open();
        Reply failed = completeOneTurn(journal, "c1", "m1");
        await(journal.markFailed(failed.replyId(), "HTTP 403: bot was blocked"));

        Journal reopened = reopen(journal);

        assertThat(reopened.undeliveredReplies()).as("what a start replays").isEmpty();
        assertThat(reopened.failedReplies(10)).singleElement().satisfies(listed -> {
            assertThat(listed.reply()).isEqualTo(failed);
            assertThat(listed.reason()).isEqualTo("HTTP 403: bot was blocked");
        });
        assertThat(reopened.stats().outboxFailed()).isOne();
    }

    @Test
    void pruningRemovesFailedRepliesPastRetention() {
        Journal journal = open();
        Reply failed = completeOneTurn(journal, "c1", "m1");
        await(journal.markFailed(failed.replyId(), "HTTP 400"));

        await(journal.prune(clock.epochMillis() + 1_000, 20));

        assertThat(journal.failedReplies(10)).isEmpty();
        assertThat(journal.stats().outboxFailed()).isZero();
    }

    // ---- sessions -----------------------------------------------------------------------------------------

    @Test
    void transcriptReturnsTheNewestExchangesOldestFirst() {
        Journal journal = open();
        for (int i = 1; i <= 3; i++) {
            InboundMessage message = journaled(journal, inbound("c1", "alice", "m" + i, "t" + i));
            await(journal.completeTurn(await(journal.startTurn(SESSION, List.of(message), "t" + i)), "r" + i));
        }

        assertThat(journal.transcript(SESSION, 2)).extracting(Exchange::prompt).containsExactly("t2", "t3");
        assertThat(journal.transcript(SESSION, 10)).extracting(Exchange::reply).containsExactly("r1", "r2", "r3");
        assertThat(journal.transcript(SESSION, 10)).extracting(Exchange::inReplyTo)
                .as("each exchange names the messages its reply answers")
                .containsExactly(List.of("m1"), List.of("m2"), List.of("m3"));
        assertThat(journal.transcript(SESSION, 10)).extracting(Exchange::replyId).doesNotHaveDuplicates()
                .allSatisfy(replyId -> assertThat(replyId).startsWith("fr-"));
        assertThat(journal.transcript(SESSION, 0)).isEmpty();
        assertThat(journal.transcript(SESSION, -1)).isEmpty();
        assertThat(journal.transcript("agent:main:nobody", 10)).isEmpty();
    }

    @Test
    void aSessionsTranscriptKeepsEveryExchangeUntilPruned() {
        Journal journal = open();
        int exchanges = 250;
        List<CompletableFuture<Reply>> replies = new ArrayList<>();
        for (int i = 1; i <= exchanges; i++) {
            InboundMessage message = inbound("c1", "alice", "m" + i, "t" + i);
            String reply = "r" + i;
            // Chained, not awaited one by one, so a group-committing engine stores them in a few commits.
            replies.add(journal.append(message)
                    .thenCompose(appended -> journal.startTurn(SESSION, List.of(message.withSeq(appended.seq())), message.text()))
                    .thenCompose(turn -> journal.completeTurn(turn, reply)));
        }
        await(CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)));

        assertThat(journal.transcript(SESSION, 1_000)).hasSize(exchanges);
        assertThat(journal.sessions(0, 10)).extracting(SessionInfo::turns).containsExactly((long) exchanges);

        await(journal.prune(clock.epochMillis() + 60_000, 20));
        assertThat(journal.transcript(SESSION, 1_000)).hasSize(20);
    }

    @Test
    void sessionTranscriptAndQueueDirectivePersistAcrossReopen() {
        Journal journal = open();
        for (int i = 1; i <= 3; i++) {
            completeOneTurn(journal, "c1", "m" + i);
        }
        QueueOverride full = new QueueOverride(QueueMode.STEER_BACKLOG, 2_000L, 3, DropPolicy.SUMMARIZE, 9_000L);
        QueueOverride partial = new QueueOverride(null, null, 7, null);
        await(journal.saveQueueDirective(SESSION, full));
        await(journal.saveQueueDirective(session("c2"), partial));

        journal = reopen(journal);

        assertThat(journal.transcript(SESSION, 2)).extracting(Exchange::prompt, Exchange::reply)
                .containsExactly(tuple("text m2", "reply m2"), tuple("text m3", "reply m3"));
        assertThat(journal.transcript(SESSION, 10)).hasSize(3);
        assertThat(journal.transcript(SESSION, 0)).isEmpty();
        assertThat(journal.queueDirectives().get(SESSION)).isEqualTo(full);
        assertThat(journal.queueDirectives().get(session("c2"))).isEqualTo(partial);
        assertThat(journal.queueDirectives().get(session("nobody"))).isNull();
    }

    @Test
    void queueDirectiveIsStoredPerSessionAndClearedByNull() {
        Journal journal = open();
        QueueOverride directive = new QueueOverride(QueueMode.COLLECT, 2_000L, 3, DropPolicy.OLD);

        await(journal.saveQueueDirective(SESSION, directive));

        assertThat(journal.queueDirectives().get(SESSION)).isEqualTo(directive);
        assertThat(journal.queueDirectives().get("agent:main:webhook:default:other")).isNull();
        await(journal.saveQueueDirective(SESSION, null));
        assertThat(journal.queueDirectives().get(SESSION)).isNull();
        await(journal.saveQueueDirective(SESSION, new QueueOverride(null, null, null, null)));
        assertThat(journal.queueDirectives().get(SESSION)).as("an empty directive is no directive").isNull();
    }

    @Test
    void saveQueueDirectiveWithNullClearsIt() {
        Journal journal = open();
        await(journal.saveQueueDirective(SESSION, new QueueOverride(QueueMode.COLLECT, 500L, null, DropPolicy.OLD)));
        await(journal.saveQueueDirective(session("c2"), new QueueOverride(QueueMode.INTERRUPT, null, null, null)));

        await(journal.saveQueueDirective(SESSION, null));
        await(journal.saveQueueDirective(session("c2"), new QueueOverride(null, null, null, null)));
        journal = reopen(journal);

        assertThat(journal.queueDirectives().get(SESSION)).isNull();
        assertThat(journal.queueDirectives().get(session("c2"))).as("an empty directive is no directive").isNull();
    }

    @Test
    void resetSessionStartsAFreshTranscriptForThatSessionOnly() {
        Journal journal = open();
        completeOneTurn(journal, "c1", "m1");
        completeOneTurn(journal, "c2", "m1");

        await(journal.resetSession(SESSION));
        journal = reopen(journal);

        assertThat(journal.transcript(SESSION, 10)).isEmpty();
        assertThat(journal.transcript(session("c2"), 10)).hasSize(1);
        assertThat(journal.sessions(0, 100)).extracting(SessionInfo::sessionKey).containsExactly(session("c2"));
        Reply afterReset = completeOneTurn(journal, "c1", "m2");
        assertThat(journal.transcript(SESSION, 10)).extracting(Exchange::reply).containsExactly(afterReset.text());
    }

    @Test
    void sessionsCountTurnsPerSession() {
        Journal journal = open();
        completeOneTurn(journal, "c1", "m1");
        completeOneTurn(journal, "c2", "m1");
        completeOneTurn(journal, "c1", "m2");
        // A turn started but not completed has no transcript yet.
        await(journal.startTurn(session("c3"), List.of(journaled(journal, inbound("c3", "a", "m1", "x"))), "x"));

        assertThat(journal.sessions(0, 100))
                .extracting(SessionInfo::sessionKey, SessionInfo::turns)
                .containsExactlyInAnyOrder(tuple(session("c1"), 2L), tuple(session("c2"), 1L));
    }

    @Test
    void sessionsListsMostRecentFirst() {
        Journal journal = open();
        // Completed back to back, as under load: all within one millisecond of the clock.
        for (int i = 1; i <= 6; i++) {
            completeOneTurn(journal, "c" + i, "m1");
        }
        completeOneTurn(journal, "c2", "m2");

        journal = reopen(journal);

        assertThat(journal.sessions(0, 100)).extracting(SessionInfo::sessionKey).containsExactly(
                session("c2"), session("c6"), session("c5"), session("c4"), session("c3"), session("c1"));
        assertThat(journal.sessions(0, 100).get(0).turns()).isEqualTo(2);
        assertThat(journal.sessions(0, 100)).extracting(SessionInfo::lastActiveEpochMs).isSortedAccordingTo(
                Collections.reverseOrder());
    }

    @Test
    void sessionsListsTheMostRecentlyCompletedFirstWhenTurnsFinishOutOfStartOrder() {
        Journal journal = open();
        Turn slow = await(journal.startTurn(session("a"),
                List.of(journaled(journal, inbound("a", "alice", "m1", "long task"))), "long task"));
        Turn quick = await(journal.startTurn(session("b"),
                List.of(journaled(journal, inbound("b", "bob", "m1", "quick one"))), "quick one"));

        await(journal.completeTurn(quick, "quick answer"));
        await(journal.completeTurn(slow, "long answer"));

        assertThat(journal.sessions(0, 100)).extracting(SessionInfo::sessionKey).containsExactly(session("a"), session("b"));
    }

    @Test
    void sessionsComeInPagesMostRecentlyActiveFirstWithTheirCount() {
        Journal journal = open();
        for (int i = 1; i <= 5; i++) {
            completeOneTurn(journal, "c" + i, "m1");
        }
        completeOneTurn(journal, "c2", "m2");

        assertThat(journal.sessionCount()).isEqualTo(5);
        assertThat(journal.sessions(0, 2)).extracting(SessionInfo::sessionKey, SessionInfo::turns)
                .containsExactly(tuple(session("c2"), 2L), tuple(session("c5"), 1L));
        assertThat(journal.sessions(2, 2)).extracting(SessionInfo::sessionKey).containsExactly(session("c4"), session("c3"));
        assertThat(journal.sessions(4, 2)).extracting(SessionInfo::sessionKey).containsExactly(session("c1"));
        assertThat(journal.sessions(5, 2)).isEmpty();
        assertThat(journal.sessions(0, 0)).isEmpty();
    }

    // ---- pruning ------------------------------------------------------------------------------------------

    @Test
    void pruneRemovesSettledRowsAndDeliveredRepliesOlderThanTheCutoffButKeepsPendingOnes() {
        long beforeAnything = clock.epochMillis() - 1;
        Journal journal = open();
        InboundMessage answered = journaled(journal, inbound("c1", "alice", "m1", "answered"));
        InboundMessage command = journaled(journal, inbound("c1", "alice", "m2", "/status"));
        InboundMessage dropped = journaled(journal, inbound("c1", "alice", "m3", "dropped"));
        InboundMessage superseded = journaled(journal, inbound("c1", "alice", "m4", "superseded"));
        InboundMessage running = journaled(journal, inbound("c2", "bob", "m1", "running"));
        InboundMessage queued = journaled(journal, inbound("c3", "carol", "m1", "queued"));
        Reply delivered = await(journal.completeTurn(await(journal.startTurn(SESSION, List.of(answered), "answered")), "r1"));
        await(journal.markDelivered(delivered.replyId()));
        Reply undelivered = await(journal.completeWithoutTurn(SESSION, command, "status"));
        await(journal.dropMessages(List.of(dropped), "queue-cap-new"));
        await(journal.supersedeTurn(await(journal.startTurn(SESSION, List.of(superseded), "superseded")), "interrupted"));
        Turn open = await(journal.startTurn(session("c2"), List.of(running), "running"));

        assertThat(await(journal.prune(beforeAnything, 20))).as("nothing is older than a cutoff before it all").isZero();
        int removed = await(journal.prune(clock.epochMillis() + 60_000, 20));

        // 4 settled messages, 1 delivered reply, 2 finished turns.
        assertThat(removed).isEqualTo(7);
        journal = reopen(journal);
        assertThat(journal.pendingMessages()).containsExactly(running, queued);
        assertThat(journal.openTurns()).containsExactly(open);
        assertThat(journal.undeliveredReplies()).containsExactly(undelivered);
        assertThat(journal.stats()).isEqualTo(new JournalStats(2, 0, 0, 0, 0, 2, 1, 0));
        assertThat(await(journal.prune(clock.epochMillis() + 60_000, 20))).as("pruning again finds nothing").isZero();
    }

    @Test
    void aPrunedMessageLeavesTheDedupeIndexWithItsRow() {
        Journal journal = open();
        InboundMessage settled = journaled(journal, inbound("c1", "alice", "m1", "x"));
        InboundMessage pending = journaled(journal, inbound("c1", "alice", "m2", "y"));
        await(journal.dropMessages(List.of(settled), "test"));

        await(journal.prune(clock.epochMillis() + 60_000, 20));

        assertThat(await(journal.append(inbound("c1", "alice", "m2", "y"))))
                .as("a pending message is never pruned, so it is still a duplicate")
                .isEqualTo(new AppendResult(pending.seq(), true));
        AppendResult afterRetention = await(journal.append(inbound("c1", "alice", "m1", "x")));
        assertThat(afterRetention.duplicate()).as("past retention the journal no longer holds it").isFalse();
        assertThat(afterRetention.seq()).isGreaterThan(pending.seq());
    }

    @Test
    void pruneKeepsEachSessionsNewestExchangesAndDeletesTheOlderOnesPastRetention() {
        Journal journal = open();
        for (int i = 1; i <= 5; i++) {
            completeOneTurn(journal, "chatty", "m" + i);
        }
        completeOneTurn(journal, "quiet", "m1");

        await(journal.prune(clock.epochMillis() - 60_000, 2));
        assertThat(journal.transcript(session("chatty"), 10)).as("nothing is past a cutoff before it all").hasSize(5);

        await(journal.prune(clock.epochMillis() + 60_000, 2));

        assertThat(journal.transcript(session("chatty"), 10)).extracting(Exchange::reply)
                .containsExactly("reply m4", "reply m5");
        assertThat(journal.transcript(session("quiet"), 10)).extracting(Exchange::reply).containsExactly("reply m1");
        assertThat(journal.sessions(0, 10)).extracting(SessionInfo::sessionKey, SessionInfo::turns)
                .containsExactly(tuple(session("quiet"), 1L), tuple(session("chatty"), 2L));
        Reply later = completeOneTurn(journal, "chatty", "m6");
        await(journal.prune(clock.epochMillis() + 60_000, 2));
        assertThat(journal.transcript(session("chatty"), 10)).extracting(Exchange::reply)
                .containsExactly("reply m5", later.text());
    }

    @Test
    void pruneKeepingNoExchangesEmptiesEveryTranscriptPastRetention() {
        Journal journal = open();
        completeOneTurn(journal, "c1", "m1");
        completeOneTurn(journal, "c2", "m1");

        await(journal.prune(clock.epochMillis() + 60_000, 0));

        assertThat(journal.sessionCount()).isZero();
        assertThat(journal.sessions(0, 10)).isEmpty();
        assertThat(journal.transcript(session("c1"), 10)).isEmpty();
    }

    @Test
    void pruneDropsTheQueueSettingsOfASessionWithNoExchangeLeftAndNoTurnOpenButKeepsTheOthers() {
        Journal journal = open();
        completeOneTurn(journal, "talking", "m1");
        InboundMessage waiting = journaled(journal, inbound("busy", "bob", "m1", "still running"));
        await(journal.startTurn(session("busy"), List.of(waiting), waiting.text()));
        for (String conversation : List.of("idle", "talking", "busy")) {
            await(journal.saveQueueDirective(session(conversation), DIRECTIVE));
        }

        await(journal.prune(clock.epochMillis() - 60_000, 0));
        assertThat(journal.queueDirectives()).as("saved within retention").containsOnlyKeys(
                session("idle"), session("talking"), session("busy"));

        await(journal.prune(clock.epochMillis() + 60_000, 1));

        assertThat(journal.queueDirectives()).containsOnlyKeys(session("talking"), session("busy"));
        assertThat(journal.queueDirectives().get(session("busy"))).isEqualTo(DIRECTIVE);
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /** A new journal of the engine under test, closed after the case. */
    protected final Journal open() {
        Journal journal = newJournal(clock);
        opened.add(journal);
        return journal;
    }

    /** {@code journal} as the next start finds it; see {@link #reopened}. */
    protected final Journal reopen(Journal journal) {
        Journal again = reopened(journal);
        opened.add(again);
        return again;
    }

    protected static String session(String conversation) {
        return "agent:main:webhook:default:" + conversation;
    }

    /** A write's result, or a failure instead of a hang if it never commits. */
    protected static <T> T await(CompletableFuture<T> write) {
        return write.orTimeout(5, SECONDS).join();
    }

    protected static InboundMessage journaled(Journal journal, InboundMessage message) {
        AppendResult result = await(journal.append(message));
        assertThat(result.duplicate()).as("already journaled: %s", message.messageId()).isFalse();
        return message.withSeq(result.seq());
    }

    protected static Reply completeOneTurn(Journal journal, String conversation, String messageId) {
        InboundMessage message = journaled(journal, inbound(conversation, "alice", messageId, "text " + messageId));
        Turn turn = await(journal.startTurn(session(conversation), List.of(message), message.text()));
        return await(journal.completeTurn(turn, "reply " + messageId));
    }

    /** A reply id without its last part: what names the journal it came from. */
    protected static String prefix(String replyId) {
        return replyId.substring(0, replyId.lastIndexOf('-'));
    }
}
