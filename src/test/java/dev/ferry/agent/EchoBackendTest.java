package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;

import org.junit.jupiter.api.Test;

import dev.ferry.time.ManualScheduler;

class EchoBackendTest {

    private final ManualScheduler scheduler = new ManualScheduler();

    private static AgentRequest request(String prompt) {
        return new AgentRequest("agent:main:main", "be brief", List.of(), prompt);
    }

    @Test
    void repliesWithEchoPrefix() {
        EchoBackend backend = new EchoBackend(scheduler, Duration.ZERO);

        AgentRun run = backend.start(request("hello\nworld"));

        assertThat(run.reply()).isCompletedWithValue("echo: hello\nworld");
        assertThat(backend.name()).isEqualTo("echo");
        assertThat(scheduler.pendingTasks()).isZero();
    }

    @Test
    void delayedReplyCompletesOnlyAfterTheDelay() {
        EchoBackend backend = new EchoBackend(scheduler, Duration.ofMillis(500));

        AgentRun run = backend.start(request("hi"));
        scheduler.advance(Duration.ofMillis(499));
        assertThat(run.reply()).isNotDone();

        scheduler.advance(Duration.ofMillis(1));
        assertThat(run.reply()).isCompletedWithValue("echo: hi");
    }

    @Test
    void concurrentRunsEachTakeTheDelayFromTheirOwnStart() {
        EchoBackend backend = new EchoBackend(scheduler, Duration.ofMillis(100));

        AgentRun first = backend.start(request("one"));
        scheduler.advance(Duration.ofMillis(60));
        AgentRun second = backend.start(request("two"));
        scheduler.advance(Duration.ofMillis(40));

        assertThat(first.reply()).isCompletedWithValue("echo: one");
        assertThat(second.reply()).isNotDone();

        scheduler.advance(Duration.ofMillis(60));
        assertThat(second.reply()).isCompletedWithValue("echo: two");
    }

    @Test
    void abortCompletesReplyWithCancellation() {
        EchoBackend backend = new EchoBackend(scheduler, Duration.ofMillis(500));
        AgentRun run = backend.start(request("hi"));

        run.abort();

        assertThat(run.reply()).isCompletedExceptionally();
        assertThatThrownBy(() -> run.reply().join()).isInstanceOf(CancellationException.class);
        assertThat(scheduler.pendingTasks()).as("the delay timer is cancelled").isZero();
        scheduler.advance(Duration.ofSeconds(1));
        assertThatThrownBy(() -> run.reply().join()).isInstanceOf(CancellationException.class);
    }

    @Test
    void abortAfterTheReplyLeavesTheReplyIntact() {
        EchoBackend backend = new EchoBackend(scheduler, Duration.ZERO);
        AgentRun run = backend.start(request("hi"));

        run.abort();

        assertThat(run.reply()).isCompletedWithValue("echo: hi");
    }
}
