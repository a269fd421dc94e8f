package dev.ferry.journal.sqlite;

import static dev.ferry.journal.TestMessages.inbound;
import static dev.ferry.journal.sqlite.SqliteJournalFixtures.overwrite;
import static dev.ferry.journal.sqlite.SqliteJournalFixtures.rawConnection;
import static dev.ferry.journal.sqlite.SqliteJournalFixtures.rows;
import static dev.ferry.journal.sqlite.SqliteJournalFixtures.session;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.config.JournalSync;
import dev.ferry.journal.AppendResult;
import dev.ferry.journal.Exchange;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalContract;
import dev.ferry.journal.JournalException;
import dev.ferry.journal.JournalStats;
import dev.ferry.journal.ManualWallClock;
import dev.ferry.journal.Reply;
import dev.ferry.journal.Turn;

/**
 * {@link SqliteJournal} against a real SQLite file, in what only a file has: what is in the file itself when
 * a future completes, journals written by earlier versions, files that are damaged or cannot be opened, and
 * closing. What every engine does is in {@link JournalContract}.
 */
class SqliteJournalTest {

    private static final String SESSION = session("c1");

    @TempDir
    Path dir;

    private final ManualWallClock clock = new ManualWallClock(1_800_000_000_000L);
    private final List<SqliteJournal> opened = new ArrayList<>();

    @AfterEach
    void closeEveryJournal() {
        opened.forEach(SqliteJournal::close);
    }

    // ---- append and dedupe ------------------------------------------------------------------------------

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

    // ---- turns --------------------------------------------------------------------------------------------

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

    // ---- pruning ------------------------------------------------------------------------------------------

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

        await(journal.prune(clock.epochMillis() - 60_000, 20));
        assertThat(journal.queueDirectives()).as("within retention of the upgrade").containsOnlyKeys(SESSION);
        await(journal.prune(clock.epochMillis() + 60_000, 20));
        assertThat(journal.queueDirectives()).as("not kept forever").isEmpty();
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

    @Test
    void anOutboxFromBeforeFailedRepliesGainsTheirColumnsWhenOpened() throws Exception {
        try (Connection connection = rawConnection(file());
             Statement statement = connection.createStatement()) {
            statement.execute("""
                    CREATE TABLE outbox (
                      reply_id TEXT PRIMARY KEY, turn_id INTEGER NOT NULL, session_key TEXT NOT NULL, channel TEXT NOT NULL,
                      account TEXT NOT NULL, conversation TEXT NOT NULL, recipient TEXT, thread_id TEXT, text TEXT NOT NULL,
                      in_reply_to TEXT NOT NULL, created_at INTEGER NOT NULL, delivered_at INTEGER)""");
            statement.execute("INSERT INTO outbox VALUES ('fr-old-1', 1, 's', 'webhook', 'default', 'c1', 'alice', NULL,"
                    + " 'echo: hi', '[\"m1\"]', 1, NULL)");
        }

        Journal journal = open();

        assertThat(journal.undeliveredReplies()).extracting(Reply::replyId).containsExactly("fr-old-1");
        await(journal.markFailed("fr-old-1", "HTTP 400"));
        assertThat(journal.failedReplies(10)).extracting(failed -> failed.reply().replyId()).containsExactly("fr-old-1");
    }

    @Test
    void everyTimeTheFileHoldsComesFromTheJournalsClock() throws Exception {
        SqliteJournal journal = open();
        InboundMessage message = journaled(journal, inbound("c1", "alice", "m1", "hi"));
        long started = clock.epochMillis();
        Turn turn = await(journal.startTurn(SESSION, List.of(message), "hi"));
        clock.advance(1_000);
        Reply reply = await(journal.completeTurn(turn, "hello"));
        clock.advance(1_000);
        await(journal.markDelivered(reply.replyId()));
        await(journal.saveQueueDirective(SESSION, new dev.ferry.config.QueueOverride(null, null, 3, null)));

        assertThat(rows(file(), "SELECT created_at FROM turns")).containsExactly(List.of(started));
        assertThat(rows(file(), "SELECT settled_at FROM messages")).containsExactly(List.of(started + 1_000));
        assertThat(rows(file(), "SELECT completed_at FROM transcript")).containsExactly(List.of(started + 1_000));
        assertThat(rows(file(), "SELECT created_at, delivered_at FROM outbox"))
                .containsExactly(List.of(started + 1_000, started + 2_000));
        assertThat(rows(file(), "SELECT updated_at FROM sessions")).containsExactly(List.of(started + 2_000));
        assertThat(journal.transcript(SESSION, 1)).extracting(Exchange::completedAtEpochMs).containsExactly(started + 1_000);
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    @Test
    void aSecondOpenOfAJournalInUseIsRefusedNamingTheHolderAndChangesNothing() throws Exception {
        SqliteJournal first = open();
        journaled(first, inbound("c1", "alice", "m1", "kept"));

        assertThatThrownBy(() -> open())
                .isInstanceOf(JournalException.class)
                .hasMessageContaining("in use by another Ferry gateway")
                .hasMessageContaining("pid " + ProcessHandle.current().pid());
        assertThat(first.stats().received()).as("the holder keeps serving").isEqualTo(1);
        journaled(first, inbound("c1", "alice", "m2", "still written"));

        first.close();
        assertThat(open().stats().received()).as("free again once the holder closes").isEqualTo(2);
    }

    private Path file() {
        return dir.resolve("journal.db");
    }

    private SqliteJournal open() {
        return open(file());
    }

    private SqliteJournal open(Path file) {
        SqliteJournal journal = SqliteJournal.open(file, JournalSync.FULL, clock);
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

    private static String prefix(String replyId) {
        return replyId.substring(0, replyId.lastIndexOf('-'));
    }
}
