package dev.ferry.journal;

import static dev.ferry.journal.SqliteJournalFixtures.rawConnection;
import static dev.ferry.journal.TestMessages.inbound;
import static dev.ferry.journal.TestMessages.journaled;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.ferry.config.JournalSync;

/** Replies the platform refused for good, in both journals: kept with their reason, out of every send, back on request. */
class FailedRepliesTest {

    @TempDir
    Path dir;

    private final List<Journal> opened = new ArrayList<>();

    @AfterEach
    void closeEveryJournal() {
        opened.forEach(Journal::close);
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "sqlite"})
    void aFailedReplyLeavesTheUndeliveredAndIsListedNewestFirstWithItsReason(String kind) {
        Journal journal = open(kind);
        Reply first = reply(journal, "c1", "m1");
        Reply second = reply(journal, "c1", "m2");
        Reply third = reply(journal, "c2", "m1");

        journal.markFailed(first.replyId(), "HTTP 400: unknown chat").join();
        journal.markFailed(third.replyId(), "HTTP 410").join();

        assertThat(journal.undeliveredReplies()).containsExactly(second);
        assertThat(journal.failedReplies(10)).extracting(FailedReply::reply).containsExactly(third, first);
        assertThat(journal.failedReplies(10)).extracting(FailedReply::reason).containsExactly("HTTP 410", "HTTP 400: unknown chat");
        assertThat(journal.failedReplies(10)).allSatisfy(failed -> assertThat(failed.failedAtEpochMs()).isPositive());
        assertThat(journal.failedReplies(1)).extracting(FailedReply::reply).containsExactly(third);
        assertThat(journal.stats().outboxPending()).isOne();
        assertThat(journal.stats().outboxFailed()).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "sqlite"})
    void requeueingMakesOnlyAFailedReplyUndeliveredAgainAndOnlyOnce(String kind) {
        Journal journal = open(kind);
        Reply failed = reply(journal, "c1", "m1");
        Reply pending = reply(journal, "c2", "m1");
        journal.markFailed(failed.replyId(), "HTTP 404").join();

        assertThat(journal.requeueFailed(failed.replyId()).join()).contains(failed);
        assertThat(journal.requeueFailed(failed.replyId()).join()).isEmpty();
        assertThat(journal.requeueFailed(pending.replyId()).join()).isEmpty();
        assertThat(journal.requeueFailed("fr-nobody-1").join()).isEmpty();

        assertThat(journal.undeliveredReplies()).containsExactlyInAnyOrder(failed, pending);
        assertThat(journal.failedReplies(10)).isEmpty();
        assertThat(journal.stats().outboxFailed()).isZero();
    }

    @Test
    void aFailedReplyStaysFailedAcrossARestart() {
        Journal journal = open("sqlite");
        Reply failed = reply(journal, "c1", "m1");
        journal.markFailed(failed.replyId(), "HTTP 403: bot was blocked").join();
        journal.close();
        opened.remove(journal);

        Journal reopened = open("sqlite");

        assertThat(reopened.undeliveredReplies()).as("what a start replays").isEmpty();
        assertThat(reopened.failedReplies(10)).singleElement().satisfies(listed -> {
            assertThat(listed.reply()).isEqualTo(failed);
            assertThat(listed.reason()).isEqualTo("HTTP 403: bot was blocked");
        });
        assertThat(reopened.stats().outboxFailed()).isOne();
    }

    @Test
    void anOutboxFromBeforeFailedRepliesGainsTheirColumnsWhenOpened() throws Exception {
        try (Connection connection = rawConnection(dir.resolve("journal.db"));
             Statement statement = connection.createStatement()) {
            statement.execute("""
                    CREATE TABLE outbox (
                      reply_id TEXT PRIMARY KEY, turn_id INTEGER NOT NULL, session_key TEXT NOT NULL, channel TEXT NOT NULL,
                      account TEXT NOT NULL, conversation TEXT NOT NULL, recipient TEXT, thread_id TEXT, text TEXT NOT NULL,
                      in_reply_to TEXT NOT NULL, created_at INTEGER NOT NULL, delivered_at INTEGER)""");
            statement.execute("INSERT INTO outbox VALUES ('fr-old-1', 1, 's', 'webhook', 'default', 'c1', 'alice', NULL,"
                    + " 'echo: hi', '[\"m1\"]', 1, NULL)");
        }

        Journal journal = open("sqlite");

        assertThat(journal.undeliveredReplies()).extracting(Reply::replyId).containsExactly("fr-old-1");
        journal.markFailed("fr-old-1", "HTTP 400").join();
        assertThat(journal.failedReplies(10)).extracting(failed -> failed.reply().replyId()).containsExactly("fr-old-1");
    }

    @Test
    void pruningRemovesFailedRepliesPastRetention() {
        Journal journal = open("sqlite");
        Reply failed = reply(journal, "c1", "m1");
        journal.markFailed(failed.replyId(), "HTTP 400").join();

        journal.prune(System.currentTimeMillis() + 1_000, 20).join();

        assertThat(journal.failedReplies(10)).isEmpty();
        assertThat(journal.stats().outboxFailed()).isZero();
    }

    private Journal open(String kind) {
        Journal journal = kind.equals("memory") ? new InMemoryJournal()
                : SqliteJournal.open(dir.resolve("journal.db"), JournalSync.FULL);
        opened.add(journal);
        return journal;
    }

    private static Reply reply(Journal journal, String conversation, String messageId) {
        InboundMessage message = journaled(journal, inbound(conversation, "alice", messageId, "text " + messageId));
        Turn turn = journal.startTurn("agent:main:webhook:default:" + conversation, List.of(message), message.text())
                .join();
        return journal.completeTurn(turn, "reply " + messageId).join();
    }
}
