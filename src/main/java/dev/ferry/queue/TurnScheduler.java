package dev.ferry.queue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.AgentRequest;
import dev.ferry.delivery.Outbox;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.Turn;
import dev.ferry.time.Scheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Runs turns: per session one at a time in submission order, across sessions at most
 * {@code maxConcurrent} at once, the sessions waiting for a slot served first come, first served.
 * A turn that fails is run again, same turn and same reply id, after a backoff; the session's later
 * batches wait behind it, so nothing is lost or reordered.
 * Thread-safe; all queue state is guarded by {@code lock}; turns run outside it on {@code executor}.
 */
public final class TurnScheduler {
    private static final Logger log = LoggerFactory.getLogger(TurnScheduler.class);

    private final Journal journal;
    private final Outbox outbox;
    private final Scheduler scheduler;
    private final Executor executor;
    private final RetryPolicy retryPolicy;
    private volatile AgentBackend backend;
    private volatile TurnSettings settings;

    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by lock. Insertion order keeps {@code status} stable. */
    private final Map<String, Lane> lanes = new LinkedHashMap<>();
    /** Lanes with work and no running turn, waiting for a slot. Guarded by lock. */
    private final ArrayDeque<Lane> ready = new ArrayDeque<>();
    /** Guarded by lock. */
    private int running;

    private final Counter turnsCompleted;
    private final Counter turnsFailed;
    private final Timer turnDuration;

    /** One session's followup queue. Guarded by the scheduler's lock. */
    private static final class Lane {
        final String sessionKey;
        final ArrayDeque<List<InboundMessage>> batches = new ArrayDeque<>();
        boolean turnRunning;

        Lane(String sessionKey) {
            this.sessionKey = sessionKey;
        }
    }

    public TurnScheduler(Journal journal, AgentBackend backend, Outbox outbox, TurnSettings settings,
                         Scheduler scheduler, Executor executor, RetryPolicy retryPolicy, MeterRegistry metrics) {
        this.journal = journal;
        this.backend = backend;
        this.outbox = outbox;
        this.settings = settings;
        this.scheduler = scheduler;
        this.executor = executor;
        this.retryPolicy = retryPolicy;
        this.turnsCompleted = Counter.builder("ferry.turns.completed").register(metrics);
        this.turnsFailed = Counter.builder("ferry.turns.failed")
                .description("Turn attempts that failed and will be retried").register(metrics);
        this.turnDuration = Timer.builder("ferry.turn.duration").register(metrics);
        metrics.gauge("ferry.turns.running", this, TurnScheduler::runningTurns);
        metrics.gauge("ferry.queue.depth", this, TurnScheduler::queuedBatches);
    }

    /** Queues a batch behind the session's earlier ones; it becomes one turn. */
    public void submit(String sessionKey, List<InboundMessage> batch) {
        if (batch.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            Lane lane = lanes.computeIfAbsent(sessionKey, Lane::new);
            lane.batches.addLast(List.copyOf(batch));
            if (!lane.turnRunning && lane.batches.size() == 1) {
                ready.addLast(lane);
            }
        } finally {
            lock.unlock();
        }
        startReadyTurns();
    }

    public void useBackend(AgentBackend newBackend) {
        this.backend = newBackend;
    }

    public void useSettings(TurnSettings newSettings) {
        this.settings = newSettings;
        startReadyTurns();
    }

    public int runningTurns() {
        lock.lock();
        try {
            return running;
        } finally {
            lock.unlock();
        }
    }

    public int queuedBatches() {
        lock.lock();
        try {
            return lanes.values().stream().mapToInt(lane -> lane.batches.size()).sum();
        } finally {
            lock.unlock();
        }
    }

    public List<SessionQueueStatus> snapshot() {
        lock.lock();
        try {
            return lanes.values().stream()
                    .map(lane -> new SessionQueueStatus(lane.sessionKey, lane.batches.size(), lane.turnRunning))
                    .collect(Collectors.toList());
        } finally {
            lock.unlock();
        }
    }

    private void startReadyTurns() {
        List<Runnable> starts = new ArrayList<>();
        lock.lock();
        try {
            while (running < settings.maxConcurrent() && !ready.isEmpty()) {
                Lane lane = ready.pollFirst();
                List<InboundMessage> batch = lane.batches.pollFirst();
                lane.turnRunning = true;
                running++;
                starts.add(() -> beginTurn(lane.sessionKey, batch));
            }
        } finally {
            lock.unlock();
        }
        // On the executor: a backend that answers at once would otherwise chain every queued turn
        // onto this caller's stack.
        starts.forEach(executor::execute);
    }

    private void beginTurn(String sessionKey, List<InboundMessage> batch) {
        String prompt = batch.stream().map(InboundMessage::text).collect(Collectors.joining("\n"));
        journal.startTurn(sessionKey, batch, prompt).whenComplete((turn, error) -> {
            if (error != null) {
                // The journal refused the turn's inputs: running it anyway could answer a message twice.
                log.error("could not start turn session={} firstSeq={}", sessionKey, batch.get(0).seq(), error);
                finishTurn(sessionKey);
                return;
            }
            runTurn(turn, 0);
        });
    }

    private void runTurn(Turn turn, int failures) {
        long startedAt = scheduler.nowMillis();
        TurnSettings current = settings;
        var request = new AgentRequest(turn.sessionKey(), current.systemPrompt(),
                journal.transcript(turn.sessionKey(), current.historyTurns()), turn.prompt());
        CompletableFuture<String> reply;
        try {
            reply = backend.start(request).reply();
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.thenCompose(text -> journal.completeTurn(turn, text)).whenComplete((committed, error) -> {
            if (error == null) {
                turnDuration.record(Duration.ofMillis(scheduler.nowMillis() - startedAt));
                turnsCompleted.increment();
                outbox.enqueue(committed);
                finishTurn(turn.sessionKey());
                return;
            }
            turnsFailed.increment();
            int attempts = failures + 1;
            Duration delay = retryPolicy.delayAfter(attempts);
            log.warn("turn failed session={} turn={} attempt={} retryInMs={} reason={}",
                    turn.sessionKey(), turn.id(), attempts, delay.toMillis(), error.toString());
            scheduler.schedule(delay, () -> executor.execute(() -> runTurn(turn, attempts)));
        });
    }

    private void finishTurn(String sessionKey) {
        lock.lock();
        try {
            running--;
            Lane lane = lanes.get(sessionKey);
            lane.turnRunning = false;
            if (lane.batches.isEmpty()) {
                lanes.remove(sessionKey);
            } else {
                ready.addLast(lane);
            }
        } finally {
            lock.unlock();
        }
        startReadyTurns();
    }
}
