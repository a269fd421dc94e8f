package dev.ferry.journal.sqlite;

import static dev.ferry.journal.sqlite.SqliteJournalFixtures.rows;
import static dev.ferry.journal.sqlite.SqliteJournalFixtures.session;
import static dev.ferry.journal.TestMessages.inbound;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.config.JournalSync;
import dev.ferry.journal.AppendResult;
import dev.ferry.journal.Exchange;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalHealth;
import dev.ferry.journal.JournalUnavailableException;
import dev.ferry.journal.Reply;
import dev.ferry.journal.Turn;
import dev.ferry.testing.SmallFileSystem;

/**
 * {@link SqliteJournal} when its storage fails under it: a full disk (SQLite's own SQLITE_FULL, and a
 * real full file system) and a journal file removed or replaced while it runs. What a write was
 * refused for must not be stored, and what was stored must never be refused.
 */
class SqliteJournalFaultTest {

    private static final String SESSION = session("c1");
    /** Bigger than a page, so storing it always needs new pages. */
    private static final String BIG = "x".repeat(20_000);

    @TempDir
    Path dir;

    private final List<SqliteJournal> opened = new ArrayList<>();

    @AfterEach
    void closeEveryJournal() {
        opened.forEach(SqliteJournal::close);
    }

    // ---- a full disk ---------------------------------------------------------------------------------------

    @Test
    void aBatchSqliteRollsBackForAFullFileStoresNothingAndItsRetriesAreStoredOnceWhenSpaceIsBack() throws Exception {
        SqliteJournal journal = open(file());
        InboundMessage before = journaled(journal, inbound("c1", "alice", "m0", "before"));
        List<InboundMessage> batch = List.of(inbound("c1", "alice", "m1", "fits"), inbound("c1", "alice", "m2", "fits too"),
                inbound("c1", "alice", "m3", BIG), inbound("c1", "alice", "m4", "after the big one"));

        // One batch whose third write needs a page the file may not have; SQLite then rolls the whole
        // transaction back by itself, the first two writes with it.
        List<CompletableFuture<AppendResult>> refused = inOneBatch(journal, writer -> limitToCurrentSize(writer),
                () -> batch.stream().map(journal::append).toList());

        assertThat(refused).allSatisfy(append -> assertUnavailable(append, "disk full"));
        assertThat(journal.health().state()).isEqualTo(JournalHealth.State.DISK_FULL);
        assertThat(journal.health().problem()).contains(file().toString(), "disk full");
        assertThat(storedMessageIds()).as("nothing refused is stored").containsExactly("m0");
        assertUnavailable(journal.append(inbound("c1", "alice", "m5", BIG)), "disk full");
        assertThat(journal.health().writable()).isFalse();

        await(journal.onWriter(SqliteJournalFaultTest::lift));
        assertThat(journal.health().writable()).as("a commit that stored nothing proves no space").isFalse();
        List<AppendResult> retried = batch.stream().map(message -> await(journal.append(message))).toList();
        List<AppendResult> again = batch.stream().map(message -> await(journal.append(message))).toList();

        assertThat(journal.health()).isEqualTo(JournalHealth.OK);
        assertThat(retried).extracting(AppendResult::duplicate).containsOnly(false);
        assertThat(again).as("each retry again is a duplicate of the one stored copy").isEqualTo(
                retried.stream().map(result -> new AppendResult(result.seq(), true)).toList());
        assertThat(storedMessageIds()).containsExactly("m0", "m1", "m2", "m3", "m4");
        SqliteJournal reopened = reopen(journal);
        assertThat(reopened.pendingMessages()).extracting(InboundMessage::messageId)
                .containsExactly("m0", "m1", "m2", "m3", "m4");
        assertThat(await(reopened.append(before))).isEqualTo(new AppendResult(before.seq(), true));
    }

    @Test
    void aWriteWhoseLaterStatementFindsTheFileFullLeavesItsTurnOpenAndCompletesOnceWhenSpaceIsBack() throws Exception {
        SqliteJournal journal = open(file());
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "hi"));
        Turn turn = await(journal.startTurn(SESSION, List.of(message), "hi"));
        await(journal.onWriter(SqliteJournalFaultTest::limitToCurrentSize));

        // Settling the message and closing the turn fit; the transcript row with the long reply does not.
        assertUnavailable(journal.completeTurn(turn, BIG), "disk full");

        assertThat(journal.pendingMessages()).containsExactly(message);
        assertThat(journal.openTurns()).containsExactly(turn);
        assertThat(journal.undeliveredReplies()).isEmpty();
        assertThat(rows(file(), "SELECT state FROM turns")).containsExactly(List.of(0L));

        await(journal.onWriter(SqliteJournalFaultTest::lift));
        Reply reply = await(journal.completeTurn(turn, BIG));

        assertThat(journal.undeliveredReplies()).containsExactly(reply);
        assertThat(journal.transcript(SESSION, 10)).extracting(Exchange::reply).containsExactly(BIG);
        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(journal.health().writable()).isTrue();
    }

    @Test
    void aFullFileSystemFailsAppendsAsUnavailableStoresNoneAndAfterFreeingStoresARetryOnce() throws Exception {
        try (SmallFileSystem disk = SmallFileSystem.mount(dir.resolve("small"), 4L << 20)) {
            Path file = disk.root().resolve("journal.db");
            SqliteJournal journal = open(file);
            InboundMessage before = journaled(journal, inbound("c1", "alice", "m0", "before"));
            try {
                disk.fill();
                List<CompletableFuture<AppendResult>> refused = new ArrayList<>();
                for (int i = 1; i <= 20; i++) {
                    refused.add(journal.append(inbound("c1", "alice", "m1", "the retried one")));
                }

                assertThat(refused).allSatisfy(append -> assertUnavailable(append, "disk full"));
                assertThat(journal.health().state()).isEqualTo(JournalHealth.State.DISK_FULL);
                assertThat(journal.stats().received()).as("nothing refused is stored").isEqualTo(1);

                disk.free();
                AppendResult stored = await(journal.append(inbound("c1", "alice", "m1", "the retried one")));
                AppendResult resent = await(journal.append(inbound("c1", "alice", "m1", "the retried one")));

                assertThat(stored.duplicate()).isFalse();
                assertThat(resent).isEqualTo(new AppendResult(stored.seq(), true));
                assertThat(journal.health()).isEqualTo(JournalHealth.OK);
                journal = reopen(journal, file);
                assertThat(journal.pendingMessages()).extracting(InboundMessage::messageId).containsExactly("m0", "m1");
                assertThat(await(journal.append(before))).isEqualTo(new AppendResult(before.seq(), true));
            } finally {
                journal.close();
            }
        }
    }

    // ---- the file removed or replaced ----------------------------------------------------------------------

    @Test
    void aJournalFileRemovedWhileRunningIsNoticedWhileIdleAndEveryWriteThenFailsUnavailable() throws Exception {
        SqliteJournal journal = open(file());
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "hi"));

        Files.delete(file());

        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !journal.health().writable());
        assertThat(journal.health().state()).isEqualTo(JournalHealth.State.FILE_LOST);
        assertThat(journal.health().problem()).contains(file().toString(), "was removed");
        assertUnavailable(journal.append(inbound("c1", "alice", "m2", "after")), "was removed");
        assertUnavailable(journal.startTurn(SESSION, List.of(message), "hi"), "was removed");
        assertThat(file()).as("never recreated").doesNotExist();
    }

    @Test
    void aWriteCommittedIntoAJournalFileJustRemovedIsNotAcknowledged() throws Exception {
        SqliteJournal journal = open(file());
        journaled(journal, inbound("c1", "alice", "m1", "hi"));

        Files.delete(file());

        // No wait for the idle check: the writer looks at the file before it acknowledges a batch.
        assertUnavailable(journal.append(inbound("c1", "alice", "m2", "into the removed file")), "was removed");
        assertThat(journal.health().state()).isEqualTo(JournalHealth.State.FILE_LOST);
    }

    @Test
    void aJournalFileReplacedWhileRunningStopsWritesForGoodAndTheNewFileIsLeftAsItIs() throws Exception {
        SqliteJournal journal = open(file());
        journaled(journal, inbound("c1", "alice", "m1", "hi"));
        Path aside = dir.resolve("journal.db.moved");
        Files.move(file(), aside);
        Files.copy(aside, file());
        byte[] replacement = Files.readAllBytes(file());

        assertUnavailable(journal.append(inbound("c1", "alice", "m2", "after")), "was replaced by another file");

        assertThat(journal.health().problem()).contains(file().toString(), "was replaced by another file");
        assertThat(Files.readAllBytes(file())).as("the new file is left as it was").isEqualTo(replacement);
        Files.move(aside, file(), StandardCopyOption.REPLACE_EXISTING);
        assertUnavailable(journal.append(inbound("c1", "alice", "m3", "after the original came back")),
                "was replaced by another file");
        assertThat(journal.health().state()).as("only a restart clears it").isEqualTo(JournalHealth.State.FILE_LOST);
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /**
     * Holds the writer in {@code whileHeld}, submits {@code writes} meanwhile, then lets it go: they queue
     * up behind it and commit as one batch.
     */
    private static <T> List<CompletableFuture<T>> inOneBatch(SqliteJournal journal, SqliteJournal.WriterStep whileHeld,
                                                            java.util.function.Supplier<List<CompletableFuture<T>>> writes)
            throws InterruptedException {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Void> held = journal.onWriter(writer -> {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            whileHeld.run(writer);
        });
        assertThat(entered.await(5, SECONDS)).isTrue();
        List<CompletableFuture<T>> submitted = writes.get();
        release.countDown();
        await(held);
        return submitted;
    }

    /** Lets the file grow by no page (SQLite clamps the limit to the pages it has), so SQLite itself answers SQLITE_FULL. */
    private static void limitToCurrentSize(Connection writer) throws SQLException {
        try (Statement statement = writer.createStatement()) {
            statement.execute("PRAGMA max_page_count = 1");
        }
    }

    /** Space is back. */
    private static void lift(Connection writer) throws SQLException {
        try (Statement statement = writer.createStatement()) {
            statement.execute("PRAGMA max_page_count = 1000000000");
        }
    }

    private List<Object> storedMessageIds() throws SQLException {
        return rows(file(), "SELECT message_id FROM messages ORDER BY seq").stream().map(row -> row.get(0)).toList();
    }

    private static void assertUnavailable(CompletableFuture<?> write, String reason) {
        assertThat(write).failsWithin(Duration.ofSeconds(5))
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(JournalUnavailableException.class)
                .withMessageContaining(reason);
    }

    private Path file() {
        return dir.resolve("journal.db");
    }

    private SqliteJournal open(Path file) {
        SqliteJournal journal = SqliteJournal.open(file, JournalSync.FULL);
        opened.add(journal);
        return journal;
    }

    private SqliteJournal reopen(SqliteJournal journal) {
        return reopen(journal, file());
    }

    private SqliteJournal reopen(SqliteJournal journal, Path file) {
        journal.close();
        return open(file);
    }

    private static <T> T await(CompletableFuture<T> write) {
        return write.orTimeout(5, SECONDS).join();
    }

    private static InboundMessage journaled(Journal journal, InboundMessage message) {
        AppendResult result = await(journal.append(message));
        assertThat(result.duplicate()).as("already journaled: %s", message.messageId()).isFalse();
        return message.withSeq(result.seq());
    }
}
