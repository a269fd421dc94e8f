package dev.ferry.queue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.AgentRequest;
import dev.ferry.agent.AgentRun;
import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueConfig;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueOverride;
import dev.ferry.config.QueueSettings;
import dev.ferry.delivery.Outbox;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalUnavailableException;
import dev.ferry.journal.Turn;
import dev.ferry.time.Scheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The followup queues and the turn scheduler (SPEC 3.2). Per session one turn at a time, in arrival
 * order; across sessions at most {@code maxConcurrent} turns, sessions waiting for a slot served first
 * come, first served. A batch for an idle session runs at once; one that arrives while the session is
 * busy is handled by the session's queue mode, and a queue drains after {@code debounceMs} of quiet, or
 * at the latest {@code maxWaitMs} after its oldest queued item.
 * Nothing leaves a queue silently: drops and supersedes are journaled with a reason, counted, and
 * dropped messages are reported to the conversation. A failed turn runs again (same turn, same reply
 * id) after a backoff, with the session's later items waiting behind it.
 * Thread-safe; all queue state is guarded by {@code lock}; agent runs and journal writes happen outside it.
 */
public final class TurnScheduler {
    private static final Logger log = LoggerFactory.getLogger(TurnScheduler.class);

    static final String DROPPED_BY_STOP = "stopped";
    static final String SUPERSEDED_BY_INTERRUPT = "interrupted";
    /** Not a supersede: a turn aborted for a reload or stop runs again, as the same turn, when turns resume. */
    static final String PARKED_FOR_RELOAD = "reload";

    private final Journal journal;
    private final Outbox outbox;
    private final Scheduler scheduler;
    private final Executor executor;
    private final RetryPolicy retryPolicy;
    private final DropNotices dropNotices;
    private final MeterRegistry metrics;
    private volatile AgentBackend backend;
    private volatile TurnSettings settings;
    private volatile QueueConfig queueConfig;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled whenever any queue changes, for {@link #waitForFollowupQueueDrain}. */
    private final Condition changed = lock.newCondition();
    /**
     * Every session's {@code /queue} settings, read from the journal once: a turn never waits on a journal read
     * for them, and a session without settings costs nothing here. Guarded by lock.
     */
    private final Map<String, QueueOverride> directives;
    /** Guarded by lock. Insertion order keeps {@code status} stable. */
    private final Map<String, SessionQueue> queues = new LinkedHashMap<>();
    /** Queues with work ready and no turn, waiting for a slot. Guarded by lock. */
    private final ArrayDeque<SessionQueue> ready = new ArrayDeque<>();
    /** Guarded by lock. */
    private int running;
    /** While true no turn starts (SPEC 3.3 draining); intake still queues. Guarded by lock. */
    private boolean paused;
    /** Turns aborted by {@link #parkRunningTurns()}, to run again on {@link #resume()}. Guarded by lock. */
    private final List<Turn> parked = new ArrayList<>();

    private final Counter turnsCompleted;
    private final Counter turnsFailed;
    private final Counter turnsSuperseded;
    private final Counter steered;
    private final Timer turnDuration;

    /** What the next turn of a queue will be: its items, prompt, and whether summaries went into it. */
    private record TurnInput(SessionQueue queue, List<InboundMessage> messages, String prompt, Turn replayed) {}

    public TurnScheduler(Journal journal, AgentBackend backend, Outbox outbox, TurnSettings settings,
                         QueueConfig queueConfig, Scheduler scheduler, Executor executor, RetryPolicy retryPolicy,
                         MeterRegistry metrics) {
        this.journal = journal;
        this.backend = backend;
        this.outbox = outbox;
        this.settings = settings;
        this.queueConfig = queueConfig;
        this.scheduler = scheduler;
        this.executor = executor;
        this.retryPolicy = retryPolicy;
        this.metrics = metrics;
        this.dropNotices = new DropNotices(journal, outbox, scheduler);
        this.directives = new HashMap<>(journal.queueDirectives());
        this.turnsCompleted = Counter.builder("ferry.turns.completed")
                .description("Turns whose reply was committed to the journal").register(metrics);
        this.turnsFailed = Counter.builder("ferry.turns.failed")
                .description("Turn attempts that failed and will be retried").register(metrics);
        this.turnsSuperseded = Counter.builder("ferry.turns.superseded")
                .description("Turns aborted by an interrupt or /stop; their messages are superseded").register(metrics);
        this.steered = Counter.builder("ferry.queue.steered")
                .description("Messages injected into a running turn").register(metrics);
        this.turnDuration = Timer.builder("ferry.turn.duration")
                .description("Time from a turn's start to its committed reply").register(metrics);
        Gauge.builder("ferry.turns.running", this, TurnScheduler::runningTurns)
                .description("Turns running now, across all sessions").register(metrics);
        Gauge.builder("ferry.queue.depth", this, TurnScheduler::queuedItems)
                .description("Batches waiting in followup queues, across all sessions").register(metrics);
    }

    // ---- intake side -------------------------------------------------------------------------------

    /** Takes a batch for a session: it runs now if the session is idle, else per the session's queue mode. */
    public void submit(String sessionKey, List<InboundMessage> batch) {
        if (batch.isEmpty()) {
            return;
        }
        long now = scheduler.nowMillis();
        var item = new QueuedItem(batch, false, now);
        List<Runnable> afterUnlock = new ArrayList<>(2);
        lock.lock();
        try {
            SessionQueue queue = queueOf(sessionKey);
            queue.channel = item.lastMessage().channel();
            if (!queue.isBusy()) {
                queue.items.addLast(item);
                markReady(queue);
            } else {
                QueueSettings current = settingsOf(queue, item.lastMessage().channel());
                enqueueWhileBusy(queue, new QueuedItem(batch, true, now), current, afterUnlock);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        afterUnlock.forEach(Runnable::run);
        startReadyTurns();
    }

    /**
     * Queues a turn the journal holds from before a restart, to run again as the same turn (same reply
     * id) ahead of anything submitted after it. Used only while the gateway starts.
     */
    public void replay(Turn turn) {
        lock.lock();
        try {
            SessionQueue queue = queueOf(turn.sessionKey());
            queue.channel = turn.lastMessage().channel();
            queue.items.addLast(new QueuedItem(turn.messages(), false, turn, scheduler.nowMillis()));
            if (!queue.turnRunning && !queue.waitingForSlot) {
                markReady(queue);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        startReadyTurns();
    }

    /** Must hold lock. SPEC 3.2's modes, for a batch that found its session busy. */
    private void enqueueWhileBusy(SessionQueue queue, QueuedItem item, QueueSettings current, List<Runnable> afterUnlock) {
        QueueMode mode = current.mode();
        if ((mode == QueueMode.STEER || mode == QueueMode.STEER_BACKLOG) && steerInto(queue, item, mode, afterUnlock)) {
            if (mode == QueueMode.STEER) {
                return;
            }
        }
        if (mode == QueueMode.INTERRUPT && queue.turnRunning && queue.abortReason == null) {
            queue.skipDebounce = true;
            afterUnlock.add(abortTurn(queue, SUPERSEDED_BY_INTERRUPT));
        }
        if (queue.firstQueuedAt < 0 || oldestStillQueued(queue) < 0) {
            queue.firstQueuedAt = item.queuedAtMillis();
        }
        addWithCap(queue, item, current, afterUnlock);
        queue.draining = true;
        queue.lastEnqueuedAt = item.queuedAtMillis();
        if (!queue.turnRunning && !queue.waitingForSlot) {
            scheduleDrain(queue, current);
        }
    }

    /**
     * Must hold lock. Offers the item's text to the running turn. With {@code steer} an accepted
     * message joins that turn; with {@code steer-backlog} the turn only sees it, and the message keeps its
     * own followup turn, so no message is ever part of two turns.
     */
    private boolean steerInto(SessionQueue queue, QueuedItem item, QueueMode mode, List<Runnable> afterUnlock) {
        // Only into a turn for the same destination: its one reply must reach everyone it answers.
        if (!queue.turnRunning || queue.run == null || queue.turn == null || queue.abortReason != null
                || item.messages().size() != 1
                || !item.destination().equals(Destination.of(queue.turn.lastMessage()))
                || !queue.run.steer(item.text())) {
            return false;
        }
        steered.increment();
        if (mode == QueueMode.STEER) {
            InboundMessage message = item.messages().get(0);
            Turn before = queue.turn;
            queue.turn = before.including(message);
            // The journal adds the message to the turn as it stood; handing it the joined turn would add it twice.
            afterUnlock.add(() -> journal.joinTurn(before, message).whenComplete((turn, error) -> {
                if (error != null) {
                    log.error("could not record steered message session={} seq={}", queue.sessionKey, message.seq(), error);
                }
            }));
        }
        return true;
    }

    /** Must hold lock. Applies the cap and drop policy, then queues the item unless the policy refused it. */
    private void addWithCap(SessionQueue queue, QueuedItem item, QueueSettings current, List<Runnable> afterUnlock) {
        List<QueuedItem> dropped = new ArrayList<>();
        int queuedCount = (int) queue.items.stream().filter(QueuedItem::queued).count();
        if (queuedCount >= current.cap()) {
            if (current.drop() == DropPolicy.NEW) {
                dropped.add(item);
            } else {
                while (queuedCount >= current.cap()) {
                    QueuedItem oldest = removeOldestQueued(queue);
                    dropped.add(oldest);
                    queuedCount--;
                    if (current.drop() == DropPolicy.SUMMARIZE) {
                        queue.unsummarizedDrops++;
                        queue.summaryLines.addLast(FollowupPrompts.summaryLine(oldest.text()));
                        while (queue.summaryLines.size() > current.cap()) {
                            queue.summaryLines.removeFirst();
                        }
                    }
                }
            }
        }
        if (dropped.isEmpty() || dropped.get(0) != item) {
            queue.items.addLast(item);
        }
        if (!dropped.isEmpty()) {
            String reason = "queue-cap-" + current.drop().configName();
            queue.droppedTotal += dropped.stream().mapToInt(d -> d.messages().size()).sum();
            afterUnlock.add(() -> recordDrops(queue.sessionKey, dropped, reason, current.drop().configName()));
        }
    }

    /** Must hold lock. The oldest item that is really queued; an idle batch waiting for a slot is not queued. */
    private static QueuedItem removeOldestQueued(SessionQueue queue) {
        var iterator = queue.items.iterator();
        while (iterator.hasNext()) {
            QueuedItem candidate = iterator.next();
            if (candidate.queued()) {
                iterator.remove();
                return candidate;
            }
        }
        throw new IllegalStateException("cap reached with no queued item");
    }

    /** Per reason; one description for all, since Prometheus keeps one HELP line per metric name. */
    private Counter droppedCounter(String reason) {
        return Counter.builder("ferry.queue.dropped").tag("reason", reason)
                .description("Messages a followup queue dropped (cap policy or /stop), journaled with the reason")
                .register(metrics);
    }

    private void recordDrops(String sessionKey, List<QueuedItem> dropped, String reason, String policy) {
        List<InboundMessage> messages = dropped.stream().flatMap(d -> d.messages().stream()).toList();
        droppedCounter(reason).increment(messages.size());
        log.info("queue dropped messages session={} count={} reason={}", sessionKey, messages.size(), reason);
        journal.dropMessages(messages, reason).whenComplete((ok, error) -> {
            if (error != null) {
                log.error("could not record dropped messages session={}", sessionKey, error);
            }
        });
        if (queueConfig.notifyDrops()) {
            dropNotices.report(sessionKey, messages.get(messages.size() - 1), messages.size(), policy);
        }
    }

    // ---- chat commands --------------------------------------------------------------------------------

    /** Aborts the session's running turn and clears its queue; what was cleared is journaled as dropped. */
    public StopReport stop(String sessionKey) {
        List<QueuedItem> cleared;
        Runnable toAbort = null;
        boolean aborted = false;
        lock.lock();
        try {
            SessionQueue queue = queues.get(sessionKey);
            if (queue == null) {
                return new StopReport(false, 0);
            }
            cleared = new ArrayList<>(queue.items);
            queue.items.clear();
            queue.summaryLines.clear();
            queue.unsummarizedDrops = 0;
            if (queue.drainTimer != null) {
                queue.drainTimer.cancel();
                queue.drainTimer = null;
            }
            if (queue.turnRunning && queue.abortReason == null) {
                toAbort = abortTurn(queue, DROPPED_BY_STOP);
                aborted = true;
            }
            if (!queue.turnRunning) {
                queue.draining = false;
                forgetIfIdle(queue);
            }
            queue.droppedTotal += cleared.stream().mapToInt(item -> item.messages().size()).sum();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (toAbort != null) {
            toAbort.run();
        }
        int clearedMessages = cleared.stream().mapToInt(item -> item.messages().size()).sum();
        if (!cleared.isEmpty()) {
            List<InboundMessage> messages = cleared.stream().flatMap(item -> item.messages().stream()).toList();
            droppedCounter(DROPPED_BY_STOP).increment(messages.size());
            journal.dropMessages(messages, DROPPED_BY_STOP);
        }
        return new StopReport(aborted, clearedMessages);
    }

    /**
     * Must hold lock. Marks the running turn to end without a reply and returns what ends it, to run
     * after unlocking: aborting the agent run, or, when the turn is only waiting for a retry, cancelling
     * that retry and ending the turn at once.
     */
    private Runnable abortTurn(SessionQueue queue, String reason) {
        queue.abortReason = reason;
        AgentRun run = queue.run;
        if (run != null) {
            return run::abort;
        }
        if (queue.retryPending) {
            queue.retryPending = false;
            if (queue.retryTimer != null) {
                queue.retryTimer.cancel();
                queue.retryTimer = null;
            }
            Turn turn = queue.turn;
            return () -> endAborted(queue, turn, reason);
        }
        // The turn is still being journaled; runTurn sees the reason before it starts the agent.
        return () -> {};
    }

    /**
     * Changes a session's {@code /queue} settings: {@code change} gets the stored ones (null if none) and
     * returns the new ones, where null or empty clears them. They apply from the next message on. Read, change
     * and save happen under the lock, so two quick changes never lose each other's fields and are journaled in
     * the order they were made. A save that fails takes its change back, unless a later one replaced it.
     *
     * @return the save, complete once the journal committed it
     */
    public CompletableFuture<Void> changeDirective(String sessionKey, UnaryOperator<QueueOverride> change) {
        QueueOverride before;
        QueueOverride after;
        CompletableFuture<Void> saved;
        lock.lock();
        try {
            before = directives.get(sessionKey);
            QueueOverride changed = change.apply(before);
            after = changed == null || changed.isEmpty() ? null : changed;
            putDirective(sessionKey, after);
            saved = journal.saveQueueDirective(sessionKey, after);
        } finally {
            lock.unlock();
        }
        saved.whenComplete((ignored, error) -> {
            if (error != null) {
                lock.lock();
                try {
                    if (Objects.equals(directives.get(sessionKey), after)) {
                        putDirective(sessionKey, before);
                    }
                } finally {
                    lock.unlock();
                }
            }
        });
        return saved;
    }

    /** Must hold lock. */
    private void putDirective(String sessionKey, QueueOverride directive) {
        if (directive == null) {
            directives.remove(sessionKey);
        } else {
            directives.put(sessionKey, directive);
        }
    }

    /** The settings that apply to the session's next message on {@code channel}. */
    public QueueSettings settingsFor(String sessionKey, String channel) {
        lock.lock();
        try {
            return queueConfig.settingsFor(channel).overriddenBy(directives.get(sessionKey));
        } finally {
            lock.unlock();
        }
    }

    // ---- status and drain -------------------------------------------------------------------------------

    public Optional<SessionQueueStatus> status(String sessionKey) {
        lock.lock();
        try {
            SessionQueue queue = queues.get(sessionKey);
            return Optional.ofNullable(queue).map(this::statusOf);
        } finally {
            lock.unlock();
        }
    }

    public List<SessionQueueStatus> snapshot() {
        lock.lock();
        try {
            return queues.values().stream().map(this::statusOf).toList();
        } finally {
            lock.unlock();
        }
    }

    /** Must hold lock. */
    private SessionQueueStatus statusOf(SessionQueue queue) {
        return new SessionQueueStatus(queue.sessionKey, settingsOf(queue, queue.channel), queue.items.size(),
                queue.draining, queue.turnRunning, queue.droppedTotal, queue.supersededTotal);
    }

    public int runningTurns() {
        lock.lock();
        try {
            return running;
        } finally {
            lock.unlock();
        }
    }

    public int queuedItems() {
        lock.lock();
        try {
            return queues.values().stream().mapToInt(queue -> queue.items.size()).sum();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every followup queue is empty and idle, or the timeout. Returns at once when nothing is
     * pending. Woken by queue changes, never by polling.
     */
    public DrainReport waitForFollowupQueueDrain(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                int remaining = queues.values().stream().mapToInt(SessionQueue::remaining).sum();
                long left = deadline - System.nanoTime();
                if (remaining == 0 || left <= 0) {
                    return new DrainReport(remaining == 0, remaining);
                }
                changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    // ---- reload and stop (SPEC 3.3) ------------------------------------------------------------------------

    /** True when some followup queue holds items or is still draining. */
    public boolean hasQueuedFollowups() {
        lock.lock();
        try {
            return queues.values().stream().anyMatch(queue -> !queue.items.isEmpty() || queue.draining);
        } finally {
            lock.unlock();
        }
    }

    /** Marks draining: no new turn starts until {@link #resume()}; submissions are still queued. */
    public void pause() {
        lock.lock();
        try {
            paused = true;
        } finally {
            lock.unlock();
        }
    }

    /** Waits on a signal until no turn is running, or the timeout; true when none is. */
    public boolean awaitNoRunningTurns(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            long left;
            while (running > parked.size() && (left = deadline - System.nanoTime()) > 0) {
                changed.awaitNanos(left);
            }
            return running <= parked.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Aborts every running turn without superseding it: each keeps its slot, its messages and its reply
     * id, and runs again as the same turn on {@link #resume()}. Returns how many it aborted.
     */
    public int parkRunningTurns() {
        List<Runnable> toAbort = new ArrayList<>();
        int count = 0;
        lock.lock();
        try {
            for (SessionQueue queue : queues.values()) {
                if (queue.turnRunning && queue.abortReason == null && !parked.contains(queue.turn)) {
                    toAbort.add(abortTurn(queue, PARKED_FOR_RELOAD));
                    count++;
                }
            }
        } finally {
            lock.unlock();
        }
        toAbort.forEach(Runnable::run);
        return count;
    }

    /** Clears draining: parked turns run again, then waiting queues start in order. */
    public void resume() {
        List<Turn> again;
        lock.lock();
        try {
            paused = false;
            again = new ArrayList<>(parked);
            parked.clear();
        } finally {
            lock.unlock();
        }
        again.forEach(turn -> executor.execute(() -> runTurn(queueFor(turn), turn, 0)));
        startReadyTurns();
    }

    private SessionQueue queueFor(Turn turn) {
        lock.lock();
        try {
            return queueOf(turn.sessionKey());
        } finally {
            lock.unlock();
        }
    }

    private void park(SessionQueue queue, Turn turn) {
        boolean runAgainNow;
        lock.lock();
        try {
            queue.abortReason = null;
            runAgainNow = !paused;
            if (!runAgainNow) {
                parked.add(turn);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        log.info("turn parked for reload session={} turn={}", turn.sessionKey(), turn.id());
        if (runAgainNow) {
            executor.execute(() -> runTurn(queue, turn, 0));
        }
    }

    // ---- settings ------------------------------------------------------------------------------------------

    public void useBackend(AgentBackend newBackend) {
        this.backend = newBackend;
    }

    public void useSettings(TurnSettings newSettings) {
        this.settings = newSettings;
        startReadyTurns();
    }

    public void useQueueConfig(QueueConfig newQueueConfig) {
        this.queueConfig = newQueueConfig;
    }

    // ---- running turns -----------------------------------------------------------------------------------

    /** Must hold lock. */
    private SessionQueue queueOf(String sessionKey) {
        return queues.computeIfAbsent(sessionKey, SessionQueue::new);
    }

    /** Must hold lock. */
    private QueueSettings settingsOf(SessionQueue queue, String channel) {
        return queueConfig.settingsFor(channel).overriddenBy(directives.get(queue.sessionKey));
    }

    /** Must hold lock. */
    private void markReady(SessionQueue queue) {
        if (!queue.waitingForSlot && !queue.turnRunning) {
            queue.waitingForSlot = true;
            ready.addLast(queue);
        }
    }

    /**
     * Must hold lock. Drains after {@code debounceMs} of quiet since the last enqueue, and at the latest
     * {@code maxWaitMs} after the oldest item still queued, so a steady stream drains too; re-checked when
     * the timer fires.
     */
    private void scheduleDrain(SessionQueue queue, QueueSettings current) {
        if (queue.drainTimer != null) {
            queue.drainTimer.cancel();
            queue.drainTimer = null;
        }
        long due = Math.min(saturatedSum(queue.lastEnqueuedAt, current.debounceMs()),
                saturatedSum(oldestQueuedAt(queue), current.longestWaitMs()));
        long now = scheduler.nowMillis();
        if (queue.skipDebounce || now >= due) {
            queue.skipDebounce = false;
            markReady(queue);
            return;
        }
        queue.drainTimer = scheduler.schedule(Duration.ofMillis(due - now), () -> {
            lock.lock();
            try {
                queue.drainTimer = null;
                if (!queue.turnRunning && !queue.waitingForSlot && !queue.items.isEmpty()) {
                    scheduleDrain(queue, settingsOf(queue, queue.items.peekFirst().lastMessage().channel()));
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            startReadyTurns();
        });
    }

    /** Must hold lock. Where the drain bound counts from: the first queued item since the last drain, dropped or not. */
    private static long oldestQueuedAt(SessionQueue queue) {
        return queue.firstQueuedAt >= 0 ? queue.firstQueuedAt : queue.lastEnqueuedAt;
    }

    /** Must hold lock. When the oldest item still queued joined, or -1; items leave in arrival order, so it is the first. */
    private static long oldestStillQueued(SessionQueue queue) {
        for (QueuedItem item : queue.items) {
            if (item.queued()) {
                return item.queuedAtMillis();
            }
        }
        return -1;
    }

    /** A deadline that saturates: a window of Long.MAX_VALUE means never, not a negative time long past. */
    private static long saturatedSum(long at, long plusMillis) {
        return plusMillis > Long.MAX_VALUE - at ? Long.MAX_VALUE : at + plusMillis;
    }

    private void startReadyTurns() {
        List<TurnInput> starts = new ArrayList<>();
        lock.lock();
        try {
            while (!paused && running < settings.maxConcurrent() && !ready.isEmpty()) {
                SessionQueue queue = ready.pollFirst();
                queue.waitingForSlot = false;
                TurnInput input = takeTurnInput(queue);
                if (input == null) {
                    forgetIfIdle(queue);
                    continue;
                }
                queue.turnRunning = true;
                running++;
                starts.add(input);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        // On the executor: a backend that answers at once would otherwise chain every queued turn onto this stack.
        starts.forEach(input -> executor.execute(() -> beginTurn(input)));
    }

    /** Must hold lock. Takes the next turn's items: in collect mode every queued item for the head's destination in a row. */
    private TurnInput takeTurnInput(SessionQueue queue) {
        QueuedItem head = queue.items.peekFirst();
        if (head == null) {
            return null;
        }
        if (head.replayed() != null) {
            queue.items.pollFirst();
            return new TurnInput(queue, head.messages(), head.replayed().prompt(), head.replayed());
        }
        QueueSettings current = settingsOf(queue, head.lastMessage().channel());
        List<QueuedItem> taken = new ArrayList<>();
        String prompt;
        if (current.mode() == QueueMode.COLLECT && head.queued()) {
            while (!queue.items.isEmpty() && queue.items.peekFirst().queued()
                    && queue.items.peekFirst().destination().equals(head.destination())) {
                taken.add(queue.items.pollFirst());
            }
            prompt = FollowupPrompts.collect(taken);
        } else {
            taken.add(queue.items.pollFirst());
            prompt = head.text();
        }
        if (queue.unsummarizedDrops > 0) {
            String header = FollowupPrompts.overflowHeader(queue.unsummarizedDrops, List.copyOf(queue.summaryLines));
            prompt = FollowupPrompts.withOverflow(header, prompt);
            queue.unsummarizedDrops = 0;
            queue.summaryLines.clear();
        }
        // What stays queued waits from its own arrival; drops by the cap never move this, or a fast stream would never drain.
        queue.firstQueuedAt = oldestStillQueued(queue);
        List<InboundMessage> messages = taken.stream().flatMap(item -> item.messages().stream()).toList();
        return new TurnInput(queue, messages, prompt, null);
    }

    private void beginTurn(TurnInput input) {
        SessionQueue queue = input.queue();
        if (input.replayed() != null) {
            runTurn(queue, input.replayed(), 0);
            return;
        }
        startTurn(input, 0);
    }

    /**
     * Fixes the turn's inputs in the journal, then runs it. A journal that cannot take writes for now (a
     * full disk) is waited out with backoff, the session still busy so that its later items stay behind:
     * dropping the input here would leave acknowledged messages unanswered until a restart.
     */
    private void startTurn(TurnInput input, int failures) {
        SessionQueue queue = input.queue();
        // Async on the turn executor: the journal's completion thread must stay free for acknowledgements.
        journal.startTurn(queue.sessionKey, input.messages(), input.prompt()).whenCompleteAsync((turn, error) -> {
            if (error == null) {
                runTurn(queue, turn, 0);
            } else if (JournalUnavailableException.findIn(error).isPresent()) {
                int attempts = failures + 1;
                Duration delay = retryPolicy.delayAfter(attempts);
                log.warn("journal unavailable; turn start retried session={} firstSeq={} attempt={} retryInMs={}",
                        queue.sessionKey, input.messages().get(0).seq(), attempts, delay.toMillis());
                scheduler.schedule(delay, () -> executor.execute(() -> startTurn(input, attempts)));
            } else {
                // The journal refused the turn's inputs: running it anyway could answer a message twice.
                log.error("could not start turn session={} firstSeq={}", queue.sessionKey,
                        input.messages().get(0).seq(), error);
                finishTurn(queue);
            }
        }, executor);
    }

    private void runTurn(SessionQueue queue, Turn turn, int failures) {
        String abortedBeforeStart;
        lock.lock();
        try {
            abortedBeforeStart = queue.abortReason;
        } finally {
            lock.unlock();
        }
        if (abortedBeforeStart != null) {
            // Superseded or parked before the agent saw it: no run to start and abort.
            endAborted(queue, turn, abortedBeforeStart);
            return;
        }
        long startedAt = scheduler.nowMillis();
        TurnSettings current = settings;
        var request = new AgentRequest(turn.sessionKey(), current.systemPrompt(),
                journal.transcript(turn.sessionKey(), current.historyTurns()), turn.prompt());
        AgentRun run;
        try {
            run = backend.start(request);
        } catch (RuntimeException e) {
            run = failedRun(e);
        }
        boolean abortNow;
        lock.lock();
        try {
            queue.turn = queue.turn == null || queue.turn.id() != turn.id() ? turn : queue.turn;
            queue.run = run;
            abortNow = queue.abortReason != null;
        } finally {
            lock.unlock();
        }
        if (abortNow) {
            run.abort();
        }
        run.reply().whenComplete((text, error) -> onReply(queue, text, error, failures, startedAt));
    }

    private void onReply(SessionQueue queue, String text, Throwable error, int failures, long startedAt) {
        Turn turn;
        String abortReason;
        lock.lock();
        try {
            turn = queue.turn;
            abortReason = queue.abortReason;
            // Steering ends with the reply: a later message must not join a turn that has answered.
            queue.run = null;
        } finally {
            lock.unlock();
        }
        if (error == null) {
            journal.completeTurn(turn, text).whenCompleteAsync((reply, commitError) -> {
                if (commitError != null) {
                    retry(queue, turn, failures, commitError);
                    return;
                }
                turnDuration.record(Duration.ofMillis(scheduler.nowMillis() - startedAt));
                turnsCompleted.increment();
                outbox.enqueue(reply);
                finishTurn(queue);
            }, executor);
            return;
        }
        if (abortReason != null) {
            endAborted(queue, turn, abortReason);
            return;
        }
        retry(queue, turn, failures, error);
    }

    /** A turn ended on purpose: parked for a reload, or superseded (interrupt, /stop) with its reason journaled. */
    private void endAborted(SessionQueue queue, Turn turn, String reason) {
        if (PARKED_FOR_RELOAD.equals(reason)) {
            park(queue, turn);
            return;
        }
        turnsSuperseded.increment();
        log.info("turn superseded session={} turn={} reason={}", turn.sessionKey(), turn.id(), reason);
        lock.lock();
        try {
            queue.supersededTotal += turn.messages().size();
        } finally {
            lock.unlock();
        }
        journal.supersedeTurn(turn, reason).whenComplete((ok, commitError) -> {
            if (commitError != null) {
                log.error("could not record superseded turn session={} turn={}", turn.sessionKey(), turn.id(),
                        commitError);
            }
            finishTurn(queue);
        });
    }

    private void retry(SessionQueue queue, Turn turn, int failures, Throwable error) {
        turnsFailed.increment();
        int attempts = failures + 1;
        Duration delay = retryPolicy.delayAfter(attempts);
        log.warn("turn failed session={} turn={} attempt={} retryInMs={} reason={}",
                turn.sessionKey(), turn.id(), attempts, delay.toMillis(), error.toString());
        lock.lock();
        try {
            queue.turn = turn;
            queue.retryPending = true;
        } finally {
            lock.unlock();
        }
        Scheduler.Cancellable timer = scheduler.schedule(delay, () -> executor.execute(() -> retryTurn(queue, turn, attempts)));
        lock.lock();
        try {
            if (queue.retryPending) {
                queue.retryTimer = timer;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Runs a failed turn again, unless an abort claimed it while it waited. */
    private void retryTurn(SessionQueue queue, Turn turn, int failures) {
        lock.lock();
        try {
            if (!queue.retryPending) {
                return;
            }
            queue.retryPending = false;
            queue.retryTimer = null;
        } finally {
            lock.unlock();
        }
        runTurn(queue, turn, failures);
    }

    private void finishTurn(SessionQueue queue) {
        lock.lock();
        try {
            running--;
            queue.turnRunning = false;
            queue.turn = null;
            queue.run = null;
            queue.abortReason = null;
            if (queue.items.isEmpty()) {
                queue.draining = false;
                queue.skipDebounce = false;
                forgetIfIdle(queue);
            } else if (queue.items.peekFirst().queued()) {
                scheduleDrain(queue, settingsOf(queue, queue.items.peekFirst().lastMessage().channel()));
            } else {
                markReady(queue);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        startReadyTurns();
    }

    /** Must hold lock. Keeps the map to sessions with something going on; a directive is kept apart. */
    private void forgetIfIdle(SessionQueue queue) {
        if (queue.isIdle()) {
            queues.remove(queue.sessionKey, queue);
        }
    }

    private static AgentRun failedRun(RuntimeException error) {
        CompletableFuture<String> failed = CompletableFuture.failedFuture(error);
        return new AgentRun() {
            @Override
            public CompletableFuture<String> reply() {
                return failed;
            }

            @Override
            public void abort() {
                // Nothing is running.
            }
        };
    }
}
