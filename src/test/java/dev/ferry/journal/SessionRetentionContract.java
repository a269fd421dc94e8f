package dev.ferry.journal;

import static dev.ferry.journal.TestMessages.inbound;
import static dev.ferry.journal.TestMessages.journaled;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueOverride;

/**
 * What every {@link Journal} engine does with sessions: pages them, and prunes their exchanges and
 * {@code /queue} settings past retention. Each engine's test runs it as a nested class, so both engines
 * answer the same cases the same way.
 */
abstract class SessionRetentionContract {

    private static final QueueOverride DIRECTIVE = new QueueOverride(QueueMode.FOLLOWUP, 500L, 3, DropPolicy.OLD);

    /** A new, empty journal of the engine under test. */
    protected abstract Journal journal();

    @Test
    void sessionsComeInPagesMostRecentlyActiveFirstWithTheirCount() {
        Journal journal = journal();
        for (int i = 1; i <= 5; i++) {
            complete(journal, "c" + i, "m1");
        }
        complete(journal, "c2", "m2");

        assertThat(journal.sessionCount()).isEqualTo(5);
        assertThat(journal.sessions(0, 2)).extracting(SessionInfo::sessionKey, SessionInfo::turns)
                .containsExactly(tuple(session("c2"), 2L), tuple(session("c5"), 1L));
        assertThat(journal.sessions(2, 2)).extracting(SessionInfo::sessionKey).containsExactly(session("c4"), session("c3"));
        assertThat(journal.sessions(4, 2)).extracting(SessionInfo::sessionKey).containsExactly(session("c1"));
        assertThat(journal.sessions(5, 2)).isEmpty();
        assertThat(journal.sessions(0, 0)).isEmpty();
    }

    @Test
    void pruneKeepsEachSessionsNewestExchangesAndDeletesTheOlderOnesPastRetention() {
        Journal journal = journal();
        for (int i = 1; i <= 5; i++) {
            complete(journal, "chatty", "m" + i);
        }
        complete(journal, "quiet", "m1");

        await(journal.prune(System.currentTimeMillis() - 60_000, 2));
        assertThat(journal.transcript(session("chatty"), 10)).as("nothing is past a cutoff before it all").hasSize(5);

        await(journal.prune(System.currentTimeMillis() + 60_000, 2));

        assertThat(journal.transcript(session("chatty"), 10)).extracting(Exchange::reply)
                .containsExactly("reply m4", "reply m5");
        assertThat(journal.transcript(session("quiet"), 10)).extracting(Exchange::reply).containsExactly("reply m1");
        assertThat(journal.sessions(0, 10)).extracting(SessionInfo::sessionKey, SessionInfo::turns)
                .containsExactly(tuple(session("quiet"), 1L), tuple(session("chatty"), 2L));
        Reply later = complete(journal, "chatty", "m6");
        await(journal.prune(System.currentTimeMillis() + 60_000, 2));
        assertThat(journal.transcript(session("chatty"), 10)).extracting(Exchange::reply)
                .containsExactly("reply m5", later.text());
    }

    @Test
    void pruneKeepingNoExchangesEmptiesEveryTranscriptPastRetention() {
        Journal journal = journal();
        complete(journal, "c1", "m1");
        complete(journal, "c2", "m1");

        await(journal.prune(System.currentTimeMillis() + 60_000, 0));

        assertThat(journal.sessionCount()).isZero();
        assertThat(journal.sessions(0, 10)).isEmpty();
        assertThat(journal.transcript(session("c1"), 10)).isEmpty();
    }

    @Test
    void pruneDropsTheQueueSettingsOfASessionWithNoExchangeLeftAndNoTurnOpenButKeepsTheOthers() {
        Journal journal = journal();
        complete(journal, "talking", "m1");
        InboundMessage waiting = journaled(journal, inbound("busy", "bob", "m1", "still running"));
        await(journal.startTurn(session("busy"), List.of(waiting), waiting.text()));
        for (String conversation : List.of("idle", "talking", "busy")) {
            await(journal.saveQueueDirective(session(conversation), DIRECTIVE));
        }

        await(journal.prune(System.currentTimeMillis() - 60_000, 0));
        assertThat(journal.queueDirectives()).as("saved within retention").containsOnlyKeys(
                session("idle"), session("talking"), session("busy"));

        await(journal.prune(System.currentTimeMillis() + 60_000, 1));

        assertThat(journal.queueDirectives()).containsOnlyKeys(session("talking"), session("busy"));
        assertThat(journal.queueDirectives().get(session("busy"))).isEqualTo(DIRECTIVE);
    }

    private static Reply complete(Journal journal, String conversation, String messageId) {
        InboundMessage message = journaled(journal, inbound(conversation, "alice", messageId, "text " + messageId));
        Turn turn = await(journal.startTurn(session(conversation), List.of(message), message.text()));
        return await(journal.completeTurn(turn, "reply " + messageId));
    }

    private static String session(String conversation) {
        return "agent:main:webhook:default:" + conversation;
    }

    private static <T> T await(CompletableFuture<T> write) {
        return write.orTimeout(5, SECONDS).join();
    }
}
