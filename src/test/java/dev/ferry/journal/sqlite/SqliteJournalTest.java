package dev.ferry.journal;

import static dev.ferry.journal.SqliteJournalFixtures.overwrite;
import static dev.ferry.journal.SqliteJournalFixtures.rawConnection;
import static dev.ferry.journal.SqliteJournalFixtures.rows;
import static dev.ferry.journal.SqliteJournalFixtures.session;
import static dev.ferry.journal.SqliteJournalFixtures.withEverything;
import static dev.ferry.journal.TestMessages.inbound;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.JournalSync;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueOverride;

/** {@link SqliteJournal} against a real SQLite file: what it promises survives closing and opening it again. */
class SqliteJournalTest {

    private static final String SESSION = session("c1");

    @TempDir
    Path dir;

    private final List<SqliteJournal> opened = new ArrayList<>();

    @AfterEach
    void closeEveryJournal() {
        opened.forEach(SqliteJournal::close);
    }

    @Nested
    class SessionsAndRetention extends SessionRetentionContract {
        @Override
        protected Journal journal() {
            return open();
        }
    }

    // ---- append and dedupe ------------------------------------------------------------------------------

    @Test
    void appendAssignsIncreasingSeqsAndReportsDuplicatesWithTheFirstSeq() {
        SqliteJournal journal = open();

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
    void sameMessageIdInAnotherConversationIsNotADuplicate() {
        SqliteJournal journal = open();

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
        assertThat(journal.pendingMessages()).extracting(InboundMessage::text).containsExactly("a", "b", "c", "d");
        assertThat(journal.stats().duplicates()).isZero();
    }

    @Test
    void duplicateIsStillFoundAfterReopeningTheFile() {
        SqliteJournal journal = open();
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

    @Test
    void anAppendTheFileCannotHoldFailsInsteadOfPassingForADuplicate() {
        SqliteJournal journal = open();
        InboundMessage noText = new InboundMessage(0, "webhook", "default", "c1", "alice", "m1", null, null, null,
                List.of(), 0);
        InboundMessage noSender = new InboundMessage(0, "webhook", "default", "c1", null, "m2", "hi", null, null,
                List.of(), 0);

        for (InboundMessage unstorable : List.of(noText, noSender)) {
            assertThat(journal.append(unstorable)).as(unstorable.messageId())
                    .failsWithin(Duration.ofSeconds(5));
        }
        assertThat(journal.stats()).isEqualTo(new JournalStats(0, 0, 0, 0, 0, 0, 0, 0));
    }

    @Test
    void anAppendIsInTheFileBeforeItsFutureCompletes() throws Exception {
        SqliteJournal journal = open();
        List<Object> seenByAnotherConnection = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<Void>> checked = new ArrayList<>();

        try (Connection raw = rawConnection(file())) {
            for (int i = 0; i < 200; i++) {
                checked.add(journal.append(inbound("c1", "alice", "m" + i, "text " + i)).thenAccept(result -> {
                    synchronized (raw) {
                        try {
                            seenByAnotherConnection.add(
                                    rows(raw, "SELECT message_id FROM messages WHERE seq = ?", result.seq()).get(0).get(0));
                        } catch (Exception e) {
                            throw new CompletionException(e);
                        }
                    }
                }));
            }
            await(CompletableFuture.allOf(checked.toArray(CompletableFuture[]::new)));
        }

        assertThat(seenByAnotherConnection).hasSize(200).doesNotHaveDuplicates();
    }

    // ---- concurrency --------------------------------------------------------------------------------------

    @Test
    void concurrentAppendsAllCommitWithDistinctSeqsAndCompleteInSeqOrderPerThread() throws Exception {
        int threads = 8;
        int perThread = 250;
        SqliteJournal journal = open();
        List<List<CompletableFuture<AppendResult>>> submitted = new ArrayList<>();
        List<List<Long>> completedSeqs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            submitted.add(new ArrayList<>());
            completedSeqs.add(Collections.synchronizedList(new ArrayList<>()));
        }
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
                        future.thenAccept(result -> completedSeqs.get(thread).add(result.seq()));
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
        SqliteJournal journal = open();
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
        SqliteJournal journal = open();
        InboundMessage taken = journaled(journal, inbound("c1", "alice", "m0", "taken"));
        await(journal.startTurn(SESSION, List.of(taken), "taken"));

        // Submitted back to back, so the writer is busy with the first while the rest queue up and share a commit
        // with the refused one.
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
    void startTurnFixesInputsAndRefusesAMessageAlreadyInAnotherTurn() {
        SqliteJournal journal = open();
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
        assertThat(secondTurn.id()).isGreaterThan(turn.id());
        assertThat(secondTurn.replyId()).isNotEqualTo(turn.replyId());
    }

    @Test
    void joinTurnAppendsTheMessageAndItsTextToThePrompt() {
        SqliteJournal journal = open();
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
        SqliteJournal reopened = reopen(journal);
        assertThat(reopened.openTurns()).as("the joined turn is what a restart runs again").containsExactly(joined, other);
        Reply reply = await(reopened.completeTurn(reopened.openTurns().get(0), "a sea poem"));
        assertThat(reply.inReplyTo()).containsExactly("m1", "m2");
        assertThat(reply.to()).isEqualTo("bob");
        assertThat(reopened.transcript(SESSION, 10)).extracting(Exchange::prompt)
                .containsExactly("write a poem\nabout the sea");
    }

    @Test
    void completeTurnInOneCommitMarksDoneAppendsTranscriptAndFillsOutbox() throws Exception {
        SqliteJournal journal = open();
        InboundMessage first = journaled(journal, inbound("c1", "alice", "m1", "hello"));
        InboundMessage last = journaled(journal, new InboundMessage(0, "webhook", "default", "c1", "bob", "m2",
                "there", "thread-9", null, List.of(), 0));
        InboundMessage unrelated = journaled(journal, inbound("c2", "carol", "m3", "elsewhere"));
        Turn turn = await(journal.startTurn(SESSION, List.of(first, last), "hello\nthere"));

        Reply reply = await(journal.completeTurn(turn, "echo: hello\nthere"));

        assertThat(reply).isEqualTo(new Reply(turn.replyId(), turn.id(), SESSION, "webhook", "default", "c1", "bob",
                "thread-9", "echo: hello\nthere", List.of("m1", "m2")));
        // All three effects are in the file by the time the future completes, as one would find them after a crash.
        assertThat(rows(file(), "SELECT seq, state FROM messages ORDER BY seq"))
                .containsExactly(List.of(first.seq(), 1L), List.of(last.seq(), 1L), List.of(unrelated.seq(), 0L));
        assertThat(rows(file(), "SELECT turn_id, reply FROM transcript"))
                .containsExactly(List.of(turn.id(), "echo: hello\nthere"));
        assertThat(rows(file(), "SELECT reply_id FROM outbox WHERE delivered_at IS NULL"))
                .containsExactly(List.of(turn.replyId()));
        journal = reopen(journal);
        assertThat(journal.pendingMessages()).containsExactly(unrelated);
        assertThat(journal.openTurns()).isEmpty();
        assertThat(journal.transcript(SESSION, 10))
                .extracting(Exchange::turnId, Exchange::prompt, Exchange::reply)
                .containsExactly(tuple(turn.id(), "hello\nthere", "echo: hello\nthere"));
        assertThat(journal.undeliveredReplies()).containsExactly(reply);
    }

    @Test
    void completingATurnTwiceKeepsItsFirstReplyInTheOutbox() {
        SqliteJournal journal = open();
        Turn turn = await(journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m1", "x"))), "x"));

        Reply first = await(journal.completeTurn(turn, "first answer"));
        await(journal.completeTurn(turn, "second answer"));

        assertThat(journal.undeliveredReplies()).containsExactly(first);
        assertThat(journal.stats().done()).isEqualTo(1);
    }

    @Test
    void markDeliveredEmptiesOutbox() {
        SqliteJournal journal = open();
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

    // ---- replay after a restart ---------------------------------------------------------------------------

    @Test
    void replyIdIsStableAcrossReopenAndDiffersBetweenJournalFiles() {
        SqliteJournal journal = open();
        Turn before = await(journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m1", "x"))), "x"));

        journal = reopen(journal);
        Reply reply = await(journal.completeTurn(journal.openTurns().get(0), "answered after the restart"));
        Turn after = await(journal.startTurn(SESSION, List.of(journaled(journal, inbound("c1", "a", "m2", "y"))), "y"));

        assertThat(reply.replyId()).isEqualTo(before.replyId());
        assertThat(prefix(after.replyId())).as("the instance id lives in the file").isEqualTo(prefix(before.replyId()));
        SqliteJournal other = open(dir.resolve("other").resolve("journal.db"));
        Turn elsewhere = await(other.startTurn(SESSION, List.of(journaled(other, inbound("c1", "a", "m1", "x"))), "x"));
        assertThat(elsewhere.id()).isEqualTo(before.id());
        assertThat(prefix(elsewhere.replyId())).as("another journal never reuses these reply ids")
                .isNotEqualTo(prefix(before.replyId()));
        assertThat(elsewhere.replyId()).isNotEqualTo(before.replyId());
    }

    @Test
    void openTurnsAfterReopenHoldTheSameTurnWithItsMessagesAndPrompt() {
        SqliteJournal journal = open();
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
        SqliteJournal journal = open();
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
    void supersedeAndDropAreTerminalStatesWithReasons() throws Exception {
        SqliteJournal journal = open();
        InboundMessage superseded = journaled(journal, inbound("c1", "alice", "m1", "long task"));
        InboundMessage dropped = journaled(journal, inbound("c1", "alice", "m2", "overflow"));
        Turn turn = await(journal.startTurn(SESSION, List.of(superseded), "long task"));

        await(journal.supersedeTurn(turn, "interrupted"));
        await(journal.dropMessages(List.of(dropped), "queue-cap-new"));
        // Settling a settled message again changes nothing: the first outcome and its reason stand.
        await(journal.dropMessages(List.of(superseded, dropped), "stopped"));

        journal = reopen(journal);
        assertThat(rows(file(), "SELECT seq, state, reason FROM messages ORDER BY seq")).containsExactly(
                List.of(superseded.seq(), 3L, "interrupted"),
                List.of(dropped.seq(), 2L, "queue-cap-new"));
        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(journal.openTurns()).isEmpty();
        assertThat(journal.undeliveredReplies()).isEmpty();
        assertThat(journal.transcript(SESSION, 10)).isEmpty();
        SqliteJournal reopened = journal;
        for (InboundMessage settled : List.of(superseded, dropped)) {
            assertThatThrownBy(() -> await(reopened.startTurn(SESSION, List.of(settled), "again")))
                    .hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("not pending");
        }
        assertThat(journal.stats()).isEqualTo(new JournalStats(2, 0, 0, 1, 1, 0, 0, 0));
    }

    @Test
    void statsAccountForEveryMessage() {
        SqliteJournal journal = open();
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
        SqliteJournal journal = open();
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

    // ---- sessions -----------------------------------------------------------------------------------------

    @Test
    void sessionTranscriptAndQueueDirectivePersistAcrossReopen() {
        SqliteJournal journal = open();
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
    void resetSessionClearsTheTranscript() {
        SqliteJournal journal = open();
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
    void saveQueueDirectiveWithNullClearsIt() {
        SqliteJournal journal = open();
        await(journal.saveQueueDirective(SESSION, new QueueOverride(QueueMode.COLLECT, 500L, null, DropPolicy.OLD)));
        await(journal.saveQueueDirective(session("c2"), new QueueOverride(QueueMode.INTERRUPT, null, null, null)));

        await(journal.saveQueueDirective(SESSION, null));
        await(journal.saveQueueDirective(session("c2"), new QueueOverride(null, null, null, null)));
        journal = reopen(journal);

        assertThat(journal.queueDirectives().get(SESSION)).isNull();
        assertThat(journal.queueDirectives().get(session("c2"))).as("an empty directive is no directive").isNull();
    }

    @Test
    void sessionsListsMostRecentFirst() {
        SqliteJournal journal = open();
        // Completed back to back, as under load: usually all within one millisecond.
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
        SqliteJournal journal = open();
        Turn slow = await(journal.startTurn(session("a"),
                List.of(journaled(journal, inbound("a", "alice", "m1", "long task"))), "long task"));
        Turn quick = await(journal.startTurn(session("b"),
                List.of(journaled(journal, inbound("b", "bob", "m1", "quick one"))), "quick one"));

        await(journal.completeTurn(quick, "quick answer"));
        await(journal.completeTurn(slow, "long answer"));

        assertThat(journal.sessions(0, 100)).extracting(SessionInfo::sessionKey).containsExactly(session("a"), session("b"));
    }

    // ---- pruning ------------------------------------------------------------------------------------------

    @Test
    void pruneRemovesSettledRowsAndDeliveredRepliesOlderThanTheCutoffButKeepsPendingOnes() {
        long beforeAnything = System.currentTimeMillis() - 1;
        SqliteJournal journal = open();
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
        int removed = await(journal.prune(System.currentTimeMillis() + 60_000, 20));

        // 4 settled messages, 1 delivered reply, 2 finished turns.
        assertThat(removed).isEqualTo(7);
        journal = reopen(journal);
        assertThat(journal.pendingMessages()).containsExactly(running, queued);
        assertThat(journal.openTurns()).containsExactly(open);
        assertThat(journal.undeliveredReplies()).containsExactly(undelivered);
        assertThat(journal.stats()).isEqualTo(new JournalStats(2, 0, 0, 0, 0, 2, 1, 0));
        assertThat(await(journal.prune(System.currentTimeMillis() + 60_000, 20))).as("pruning again finds nothing").isZero();
    }

    @Test
    void aPrunedMessageLeavesTheDedupeIndexWithItsRow() {
        SqliteJournal journal = open();
        InboundMessage settled = journaled(journal, inbound("c1", "alice", "m1", "x"));
        InboundMessage pending = journaled(journal, inbound("c1", "alice", "m2", "y"));
        await(journal.dropMessages(List.of(settled), "test"));

        await(journal.prune(System.currentTimeMillis() + 60_000, 20));

        assertThat(await(journal.append(inbound("c1", "alice", "m2", "y"))))
                .as("a pending message is never pruned, so it is still a duplicate")
                .isEqualTo(new AppendResult(pending.seq(), true));
        AppendResult afterRetention = await(journal.append(inbound("c1", "alice", "m1", "x")));
        assertThat(afterRetention.duplicate()).as("past retention the journal no longer holds it").isFalse();
        assertThat(afterRetention.seq()).isGreaterThan(pending.seq());
    }

    @Test
    void aJournalFromBeforeStoredDedupeKeysStillFindsItsDuplicates() throws Exception {
        Path legacy = dir.resolve("legacy").resolve("journal.db");
        Files.createDirectories(legacy.getParent());
        try (Connection connection = rawConnection(legacy); var statement = connection.createStatement()) {
            statement.execute("CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL,"
                    + " account TEXT NOT NULL, conversation TEXT NOT NULL, sender TEXT NOT NULL, message_id TEXT NOT NULL,"
                    + " text TEXT NOT NULL, thread_id TEXT, reply_to_id TEXT, media TEXT, received_at INTEGER NOT NULL,"
                    + " state INTEGER NOT NULL DEFAULT 0, reason TEXT, turn_id INTEGER, settled_at INTEGER,"
                    + " UNIQUE (channel, account, conversation, message_id))");
            statement.execute("INSERT INTO messages(channel, account, conversation, sender, message_id, text, received_at)"
                    + " VALUES ('webhook', 'default', 'c1', 'alice', 'm1', 'old', 0)");
        }

        SqliteJournal journal = open(legacy);

        assertThat(await(journal.append(inbound("c1", "alice", "m1", "old")))).isEqualTo(new AppendResult(1, true));
        assertThat(await(journal.append(inbound("c1", "alice", "m2", "new")))).isEqualTo(new AppendResult(2, false));
        journal.close();
        try (Connection connection = rawConnection(legacy); var statement = connection.createStatement();
             var unkeyed = statement.executeQuery("SELECT count(*) FROM messages WHERE dedupe_key IS NULL")) {
            assertThat(unkeyed.getInt(1)).as("the old row got its key once, when the column was added").isZero();
        }
        journal = open(legacy);
        assertThat(await(journal.append(inbound("c1", "alice", "m1", "old")))).isEqualTo(new AppendResult(1, true));
        assertThat(await(journal.append(inbound("c1", "alice", "m2", "new")))).isEqualTo(new AppendResult(2, true));
    }

    @Test
    void rowsWrittenWithoutAKeyAfterTheColumnExistedAreKeyedAtTheNextOpen() throws Exception {
        Path file = dir.resolve("mixed").resolve("journal.db");
        SqliteJournal journal = open(file);
        journaled(journal, inbound("c1", "alice", "m1", "keyed"));
        journal.close();
        try (Connection connection = rawConnection(file); var statement = connection.createStatement()) {
            // As a version from before stored keys would write it.
            statement.execute("INSERT INTO messages(channel, account, conversation, sender, message_id, text, received_at)"
                    + " VALUES ('webhook', 'default', 'c1', 'alice', 'm2', 'unkeyed', 0)");
        }

        journal = open(file);

        assertThat(await(journal.append(inbound("c1", "alice", "m1", "keyed")))).isEqualTo(new AppendResult(1, true));
        assertThat(await(journal.append(inbound("c1", "alice", "m2", "unkeyed")))).isEqualTo(new AppendResult(2, true));
        assertThat(await(journal.append(inbound("c1", "alice", "m3", "new"))).duplicate()).isFalse();
        journal.close();
        try (Connection connection = rawConnection(file); var statement = connection.createStatement();
             var unkeyed = statement.executeQuery("SELECT count(*) FROM messages WHERE dedupe_key IS NULL")) {
            assertThat(unkeyed.getInt(1)).isZero();
        }
    }

    @Test
    void queueSettingsStoredBeforeTheirSaveTimeWasKeptLastOneRetentionPeriod() throws Exception {
        Path legacy = dir.resolve("legacy").resolve("journal.db");
        Files.createDirectories(legacy.getParent());
        try (Connection connection = rawConnection(legacy); var statement = connection.createStatement()) {
            statement.execute("CREATE TABLE sessions (session_key TEXT PRIMARY KEY, queue_directive TEXT)");
            statement.execute("INSERT INTO sessions VALUES ('" + SESSION + "', '{\"mode\":\"followup\"}')");
        }
        SqliteJournal journal = open(legacy);

        await(journal.prune(System.currentTimeMillis() - 60_000, 20));
        assertThat(journal.queueDirectives()).as("within retention of the upgrade").containsOnlyKeys(SESSION);
        await(journal.prune(System.currentTimeMillis() + 60_000, 20));
        assertThat(journal.queueDirectives()).as("not kept forever").isEmpty();
    }

    @Test
    void seqsAndReplyIdsAreNeverReusedAfterPrune() {
        SqliteJournal journal = open();
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "x"));
        Reply reply = await(journal.completeTurn(await(journal.startTurn(SESSION, List.of(message), "x")), "r"));
        await(journal.markDelivered(reply.replyId()));
        await(journal.prune(System.currentTimeMillis() + 60_000, 20));

        journal = reopen(journal);
        InboundMessage next = journaled(journal, inbound("c1", "alice", "m2", "y"));
        Turn nextTurn = await(journal.startTurn(SESSION, List.of(next), "y"));

        assertThat(next.seq()).isGreaterThan(message.seq());
        assertThat(nextTurn.replyId()).as("an idempotent receiver would drop a reused reply id")
                .isNotEqualTo(reply.replyId());
    }

    // ---- opening and closing ------------------------------------------------------------------------------

    @Test
    void corruptFileStopsOpeningWithAClearErrorAndIsLeftUntouched() throws Exception {
        byte[] noise = new byte[16 * 1024];
        new Random(42).nextBytes(noise);
        Path random = dir.resolve("random").resolve("journal.db");
        Files.createDirectories(random.getParent());
        Files.write(random, noise);
        Path text = dir.resolve("text").resolve("journal.db");
        Files.createDirectories(text.getParent());
        Files.writeString(text, "channels:\n  webhook:\n    enabled: true\n".repeat(50));

        assertRefusedAndUntouched(random);
        assertRefusedAndUntouched(text);
    }

    @Test
    void damagedJournalStopsOpeningWithAClearErrorAndIsLeftUntouched() throws Exception {
        SqliteJournal journal = open();
        List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            appends.add(journal.append(inbound("c1", "alice", "m" + i, "a message long enough to fill pages ".repeat(4) + i)));
        }
        await(CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)));
        journal.close();
        long size = Files.size(file());
        assertThat(size).as("several pages to damage").isGreaterThan(8 * 4096);
        byte[] garbage = new byte[4096];
        new Random(7).nextBytes(garbage);
        // Page 1 (the header and the schema) stays intact; a data page in the middle does not.
        overwrite(file(), (size / 4096 / 2) * 4096, garbage);

        assertRefusedAndUntouched(file());
    }

    @Test
    void unreadableFileStopsOpeningWithAClearError() throws Exception {
        open().close();
        Files.setPosixFilePermissions(file(), PosixFilePermissions.fromString("---------"));
        assumeFalse(Files.isReadable(file()), "running as root: permissions do not stop reading");

        assertRefusedAndUntouched(file());
    }

    @Test
    void aJournalPathThatCannotBeCreatedFailsNamingIt() throws Exception {
        Files.writeString(dir.resolve("state"), "a file where a directory should be");
        Path file = dir.resolve("state").resolve("journal.db");

        assertThatThrownBy(() -> SqliteJournal.open(file, JournalSync.FULL))
                .isInstanceOf(JournalException.class)
                .hasMessageContaining(file.toString());
    }

    @Test
    void openCreatesMissingDirectoriesAndWorksWithNormalSync() {
        Path file = dir.resolve("a").resolve("b").resolve("journal.db");
        SqliteJournal journal = SqliteJournal.open(file, JournalSync.NORMAL);
        opened.add(journal);

        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "x"));

        assertThat(file).exists();
        assertThat(journal.pendingMessages()).containsExactly(message);
    }

    @Test
    void closeCommitsWhatIsQueuedBeforeClosing() {
        SqliteJournal journal = open();
        List<CompletableFuture<AppendResult>> queued = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            queued.add(journal.append(inbound("c1", "alice", "m" + i, "text " + i)));
        }

        journal.close();

        assertThat(queued).as("acknowledged before close returns").allSatisfy(future ->
                assertThat(future).isCompletedWithValueMatching(result -> !result.duplicate()));
        journal = open();
        assertThat(journal.pendingMessages()).hasSize(500);
    }

    @Test
    void writesAfterCloseFailInsteadOfHanging() {
        SqliteJournal journal = open();
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "x"));
        Turn turn = await(journal.startTurn(SESSION, List.of(message), "x"));
        journal.close();

        List<CompletableFuture<?>> writes = List.of(
                journal.append(inbound("c1", "alice", "m2", "y")),
                journal.startTurn(SESSION, List.of(message), "x"),
                journal.joinTurn(turn, message),
                journal.completeTurn(turn, "r"),
                journal.supersedeTurn(turn, "stopped"),
                journal.dropMessages(List.of(message), "stopped"),
                journal.completeWithoutTurn(SESSION, message, "r"),
                journal.recordNotice(SESSION, message, "n"),
                journal.resetSession(SESSION),
                journal.saveQueueDirective(SESSION, null),
                journal.markDelivered("fr-x-1"),
                journal.prune(0, 20));

        assertThat(writes).allSatisfy(write -> assertThat(write).failsWithin(Duration.ofSeconds(1))
                .withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(JournalException.class)
                .withMessageContaining("closed"));
        assertThatThrownBy(journal::pendingMessages).isInstanceOf(JournalException.class);
        journal.close();
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private Path file() {
        return dir.resolve("journal.db");
    }

    private SqliteJournal open() {
        return open(file());
    }

    private SqliteJournal open(Path file) {
        SqliteJournal journal = SqliteJournal.open(file, JournalSync.FULL);
        opened.add(journal);
        return journal;
    }

    /** Closes {@code journal} as a stopping gateway would and opens the same file again, as the next start would. */
    private SqliteJournal reopen(SqliteJournal journal) {
        journal.close();
        return open();
    }

    private void assertRefusedAndUntouched(Path file) throws Exception {
        byte[] before = Files.readAllBytes(file);

        assertThatThrownBy(() -> open(file))
                .isInstanceOf(JournalException.class)
                .hasMessageContaining(file.toString());

        assertThat(Files.readAllBytes(file)).as("%s is left as it was", file).isEqualTo(before);
    }

    /** A write's result, or a failure instead of a hang if it never commits. */
    private static <T> T await(CompletableFuture<T> write) {
        return write.orTimeout(5, SECONDS).join();
    }

    private static InboundMessage journaled(Journal journal, InboundMessage message) {
        AppendResult result = await(journal.append(message));
        assertThat(result.duplicate()).as("already journaled: %s", message.messageId()).isFalse();
        return message.withSeq(result.seq());
    }

    private static Reply completeOneTurn(Journal journal, String conversation, String messageId) {
        InboundMessage message = journaled(journal, inbound(conversation, "alice", messageId, "text " + messageId));
        Turn turn = await(journal.startTurn(session(conversation), List.of(message), message.text()));
        return await(journal.completeTurn(turn, "reply " + messageId));
    }

    private static String prefix(String replyId) {
        return replyId.substring(0, replyId.lastIndexOf('-'));
    }
}
