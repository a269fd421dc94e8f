package dev.ferry.journal;

import static dev.ferry.journal.TestMessages.inbound;
import static dev.ferry.journal.TestMessages.journaled;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

/**
 * What every {@link Journal} engine does with sessions: pages them. Each engine's test runs it as a
 * nested class, so both engines answer the same cases the same way.
 */
abstract class SessionRetentionContract {

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
