package dev.ferry.intake;

import static dev.ferry.journal.TestMessages.inbound;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.junit.jupiter.api.Test;

import dev.ferry.journal.AppendResult;
import dev.ferry.journal.ForwardingJournal;
import dev.ferry.journal.InMemoryJournal;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

class IntakeTest {

    private final InMemoryJournal journal = new InMemoryJournal();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final List<InboundMessage> handedOn = Collections.synchronizedList(new ArrayList<>());

    @Test
    void handsOnOnlyAfterTheAppendCommitted() {
        SlowCommitJournal slow = new SlowCommitJournal(journal);
        Intake intake = new Intake(slow, handedOn::add, metrics);

        CompletableFuture<AppendResult> accepted = intake.accept(inbound("c1", "alice", "m1", "hi"));

        assertThat(accepted).as("no acknowledgement before the commit").isNotDone();
        assertThat(handedOn).isEmpty();

        slow.commit();

        assertThat(accepted).isCompletedWithValue(new AppendResult(1, false));
        assertThat(handedOn).extracting(InboundMessage::seq, InboundMessage::messageId, InboundMessage::text)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, "m1", "hi"));
    }

    @Test
    void aFailedAppendIsNeitherAcknowledgedNorHandedOn() {
        Intake intake = new Intake(new FailingJournal(journal), handedOn::add, metrics);

        CompletableFuture<AppendResult> accepted = intake.accept(inbound("c1", "alice", "m1", "hi"));

        assertThatThrownBy(accepted::join).isInstanceOf(CompletionException.class)
                .hasRootCauseInstanceOf(IOException.class);
        assertThat(handedOn).isEmpty();
    }

    @Test
    void duplicateIsNotHandedOn() {
        Intake intake = new Intake(journal, handedOn::add, metrics);

        AppendResult first = intake.accept(inbound("c1", "alice", "m1", "hi")).join();
        AppendResult again = intake.accept(inbound("c1", "alice", "m1", "hi")).join();

        assertThat(again).isEqualTo(new AppendResult(first.seq(), true));
        assertThat(handedOn).hasSize(1);
        assertThat(metrics.counter("ferry.inbound.accepted", "channel", "webhook").count()).isEqualTo(1);
        assertThat(metrics.counter("ferry.inbound.duplicates", "channel", "webhook").count()).isEqualTo(1);
    }

    @Test
    void handsOnEachMessageWithItsJournalSeqInOrder() {
        Intake intake = new Intake(journal, handedOn::add, metrics);

        intake.accept(inbound("c1", "alice", "m1", "one")).join();
        intake.accept(inbound("c2", "bob", "m1", "two")).join();
        intake.accept(inbound("c1", "alice", "m2", "three")).join();

        assertThat(handedOn).extracting(InboundMessage::seq).containsExactly(1L, 2L, 3L);
        assertThat(handedOn).extracting(InboundMessage::text).containsExactly("one", "two", "three");
    }

    @Test
    void aFailingSinkStillAcknowledgesTheCommittedMessage() {
        Intake intake = new Intake(journal, message -> {
            throw new IllegalStateException("debouncer closed");
        }, metrics);

        CompletableFuture<AppendResult> accepted = intake.accept(inbound("c1", "alice", "m1", "hi"));

        assertThat(accepted).isCompletedWithValue(new AppendResult(1, false));
        assertThat(journal.pendingMessages()).extracting(InboundMessage::messageId).as("kept for replay")
                .containsExactly("m1");
    }

    /** Commits appends to the in-memory journal at once, but reports the commit only when the test says so. */
    private static final class SlowCommitJournal extends ForwardingJournal {
        private final List<Runnable> uncommitted = new ArrayList<>();

        SlowCommitJournal(Journal delegate) {
            super(delegate);
        }

        @Override
        public CompletableFuture<AppendResult> append(InboundMessage message) {
            AppendResult result = super.append(message).join();
            CompletableFuture<AppendResult> committed = new CompletableFuture<>();
            uncommitted.add(() -> committed.complete(result));
            return committed;
        }

        void commit() {
            uncommitted.forEach(Runnable::run);
            uncommitted.clear();
        }
    }

    private static final class FailingJournal extends ForwardingJournal {
        FailingJournal(Journal delegate) {
            super(delegate);
        }

        @Override
        public CompletableFuture<AppendResult> append(InboundMessage message) {
            return CompletableFuture.failedFuture(new UncheckedIOException(new IOException("disk full")));
        }
    }
}
