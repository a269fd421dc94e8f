package dev.ferry.journal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.config.QueueOverride;
import dev.ferry.time.WallClock;

/**
 * A journal held in memory, for tests: every guarantee of {@link Journal} except surviving the process.
 * It keeps the rows the SQLite journal keeps (settled messages, finished turns, delivered and failed
 * replies, until {@link #prune} removes them), so {@code JournalContract} holds for both alike.
 * Thread-safe; all state is guarded by {@code lock}, and each write is "committed" under it before its
 * future completes.
 *
 * <p>A write's future completes on the completion executor, in commit order. The no-argument journal
 * completes it on the calling thread before the call returns, which keeps tests elsewhere deterministic;
 * the contract suite gives it a thread of its own, as the durable journal has.
 */
public final class InMemoryJournal implements Journal {

    private final WallClock clock;
    private final Executor completions;
    /** Reply ids must never repeat across journals, or an idempotent receiver would drop a new reply. */
    private final ReplyIds replyIds = ReplyIds.fresh();
    private final ReentrantLock lock = new ReentrantLock();

    @GuardedBy("lock")
    private final Map<DedupeKey, Long> seqByDedupeKey = new HashMap<>();
    /** Every message the journal holds, by seq. */
    @GuardedBy("lock")
    private final TreeMap<Long, MessageRow> messages = new TreeMap<>();
    @GuardedBy("lock")
    private final TreeMap<Long, TurnRow> turns = new TreeMap<>();
    /** Undelivered, delivered and failed replies alike, in insertion order. */
    @GuardedBy("lock")
    private final LinkedHashMap<String, OutboxRow> outbox = new LinkedHashMap<>();
    /** Every session's exchanges in the order stored; a session's newest is its last. */
    @GuardedBy("lock")
    private final List<ExchangeRow> transcript = new ArrayList<>();
    @GuardedBy("lock")
    private final Map<String, DirectiveRow> directives = new HashMap<>();
    /** A channel's stored position by channel and account, joined by a NUL. */
    @GuardedBy("lock")
    private final Map<String, String> cursors = new HashMap<>();
    @GuardedBy("lock")
    private long lastSeq;
    @GuardedBy("lock")
    private long lastTurnId;
    @GuardedBy("lock")
    private long lastOutboxRow;
    @GuardedBy("lock")
    private long duplicates;

    private record DedupeKey(String channel, String account, String conversation, String messageId) {
        static DedupeKey of(InboundMessage message) {
            return new DedupeKey(message.channel(), message.account(), message.conversation(), message.messageId());
        }
    }

    private record MessageRow(InboundMessage message, MessageState state, Long turnId, long settledAt) {
        boolean isPending() {
            return state == MessageState.PENDING;
        }
    }

    private record TurnRow(String sessionKey, String prompt, TurnState state, long createdAt) {}

    /** {@code row} is the insertion order, SQLite's rowid: it breaks ties between equal times. */
    private record OutboxRow(Reply reply, long createdAt, long row, Long deliveredAt, Long failedAt, String failure) {
        boolean isUndelivered() {
            return deliveredAt == null && failedAt == null;
        }
    }

    private record ExchangeRow(String sessionKey, Exchange exchange) {}

    private record DirectiveRow(QueueOverride directive, long savedAt) {}

    /** Dated by the system clock; writes complete on the calling thread. */
    public InMemoryJournal() {
        this(WallClock.SYSTEM, Runnable::run);
    }

    /** Dated by {@code clock}; writes complete on {@code completions}, in commit order if it runs tasks in order. */
    public InMemoryJournal(WallClock clock, Executor completions) {
        this.clock = clock;
        this.completions = completions;
    }

    /** The future of a write just committed; handed over under the lock, so futures complete in commit order. */
    @GuardedBy("lock")
    private <T> CompletableFuture<T> committed(T result) {
        CompletableFuture<T> future = new CompletableFuture<>();
        completions.execute(() -> future.complete(result));
        return future;
    }

    @GuardedBy("lock")
    private <T> CompletableFuture<T> refused(RuntimeException refusal) {
        CompletableFuture<T> future = new CompletableFuture<>();
        completions.execute(() -> future.completeExceptionally(refusal));
        return future;
    }

    @Override
    public CompletableFuture<AppendResult> append(InboundMessage message) {
        lock.lock();
        try {
            return committed(appendLocked(message));
        } finally {
            lock.unlock();
        }
    }

    @GuardedBy("lock")
    private AppendResult appendLocked(InboundMessage message) {
        Long existing = seqByDedupeKey.get(DedupeKey.of(message));
        if (existing != null) {
            duplicates++;
            return new AppendResult(existing, true);
        }
        long seq = ++lastSeq;
        seqByDedupeKey.put(DedupeKey.of(message), seq);
        messages.put(seq, new MessageRow(message.withSeq(seq), MessageState.PENDING, null, 0));
        return new AppendResult(seq, false);
    }

    @Override
    public CompletableFuture<List<AppendResult>> appendAll(List<InboundMessage> batch, ChannelCursor cursor) {
        lock.lock();
        try {
            List<AppendResult> results = new ArrayList<>();
            for (InboundMessage message : batch) {
                results.add(appendLocked(message));
            }
            cursors.put(cursor.channel() + "\u0000" + cursor.account(), cursor.position());
            return committed(List.copyOf(results));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<String> cursor(String channel, String account) {
        lock.lock();
        try {
            return Optional.ofNullable(cursors.get(channel + "\u0000" + account));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Turn> startTurn(String sessionKey, List<InboundMessage> claimed, String prompt) {
        lock.lock();
        try {
            IllegalStateException refusal = refusal(claimed);
            if (refusal != null) {
                return refused(refusal);
            }
            long turnId = ++lastTurnId;
            turns.put(turnId, new TurnRow(sessionKey, prompt, TurnState.OPEN, clock.epochMillis()));
            claim(claimed, turnId);
            return committed(new Turn(turnId, replyIds.forTurn(turnId), sessionKey, claimed, prompt));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Turn> joinTurn(Turn turn, InboundMessage message) {
        lock.lock();
        try {
            IllegalStateException refusal = refusal(List.of(message));
            if (refusal != null) {
                return refused(refusal);
            }
            claim(List.of(message), turn.id());
            Turn joined = turn.including(message);
            TurnRow row = turns.get(turn.id());
            if (row != null) {
                turns.put(turn.id(), new TurnRow(row.sessionKey(), joined.prompt(), row.state(), row.createdAt()));
            }
            return committed(joined);
        } finally {
            lock.unlock();
        }
    }

    /** Why a message cannot join a turn, or null: it may only while it is pending and in no turn. */
    @GuardedBy("lock")
    private IllegalStateException refusal(List<InboundMessage> candidates) {
        for (InboundMessage message : candidates) {
            MessageRow row = messages.get(message.seq());
            if (row == null || !row.isPending()) {
                return new IllegalStateException("message seq=" + message.seq() + " is not pending");
            }
            if (row.turnId() != null) {
                return new IllegalStateException("message seq=" + message.seq() + " already belongs to turn " + row.turnId());
            }
        }
        return null;
    }

    @GuardedBy("lock")
    private void claim(List<InboundMessage> claimed, long turnId) {
        for (InboundMessage message : claimed) {
            MessageRow row = messages.get(message.seq());
            messages.put(message.seq(), new MessageRow(row.message(), row.state(), turnId, row.settledAt()));
        }
    }

    @Override
    public CompletableFuture<Reply> completeTurn(Turn turn, String replyText) {
        lock.lock();
        try {
            long now = clock.epochMillis();
            settle(turn.messages(), MessageState.DONE, now);
            endTurn(turn, TurnState.COMPLETED);
            transcript.add(new ExchangeRow(turn.sessionKey(), new Exchange(turn.id(), turn.replyId(), turn.prompt(), replyText, now,
                    turn.messages().stream().map(InboundMessage::messageId).toList())));
            Reply reply = Reply.answering(turn.replyId(), turn.id(), turn.sessionKey(), turn.messages(), replyText);
            putInOutbox(reply, now);
            return committed(reply);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Void> supersedeTurn(Turn turn, String reason) {
        lock.lock();
        try {
            settle(turn.messages(), MessageState.SUPERSEDED, clock.epochMillis());
            endTurn(turn, TurnState.SUPERSEDED);
            return committed(null);
        } finally {
            lock.unlock();
        }
    }

    @GuardedBy("lock")
    private void endTurn(Turn turn, TurnState state) {
        TurnRow row = turns.get(turn.id());
        if (row != null) {
            turns.put(turn.id(), new TurnRow(row.sessionKey(), row.prompt(), state, row.createdAt()));
        }
    }

    @Override
    public CompletableFuture<Reply> failTurn(Turn turn, String replyText, String reason) {
        lock.lock();
        try {
            long now = clock.epochMillis();
            settle(turn.messages(), MessageState.DONE, now);
            TurnRow row = turns.get(turn.id());
            if (row != null && row.state() == TurnState.OPEN) {
                endTurn(turn, TurnState.FAILED);
            }
            Reply reply = Reply.answering(turn.replyId(), turn.id(), turn.sessionKey(), turn.messages(), replyText);
            putInOutbox(reply, now);
            return committed(reply);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Void> dropMessages(List<InboundMessage> dropped, String reason) {
        lock.lock();
        try {
            settle(dropped, MessageState.DROPPED, clock.epochMillis());
            return committed(null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Reply> completeWithoutTurn(String sessionKey, InboundMessage message, String replyText) {
        lock.lock();
        try {
            long now = clock.epochMillis();
            settle(List.of(message), MessageState.DONE, now);
            Reply reply = Reply.answering(replyIds.forCommand(message.seq()), 0, sessionKey, List.of(message), replyText);
            putInOutbox(reply, now);
            return committed(reply);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Reply> recordNotice(String sessionKey, InboundMessage about, String text) {
        lock.lock();
        try {
            Reply notice = Reply.notice(replyIds.forNotice(), sessionKey, about, text);
            putInOutbox(notice, clock.epochMillis());
            return committed(notice);
        } finally {
            lock.unlock();
        }
    }

    /** Settles what is still pending; a message settled already keeps its first outcome. */
    @GuardedBy("lock")
    private void settle(List<InboundMessage> settled, MessageState state, long now) {
        for (InboundMessage message : settled) {
            MessageRow row = messages.get(message.seq());
            if (row != null && row.isPending()) {
                messages.put(message.seq(), new MessageRow(row.message(), state, row.turnId(), now));
            }
        }
    }

    /** A turn completed twice keeps its first reply, never a second. */
    @GuardedBy("lock")
    private void putInOutbox(Reply reply, long now) {
        if (!outbox.containsKey(reply.replyId())) {
            outbox.put(reply.replyId(), new OutboxRow(reply, now, ++lastOutboxRow, null, null, null));
        }
    }

    @Override
    public CompletableFuture<Void> resetSession(String sessionKey) {
        lock.lock();
        try {
            transcript.removeIf(row -> row.sessionKey().equals(sessionKey));
            return committed(null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Void> saveQueueDirective(String sessionKey, QueueOverride directive) {
        lock.lock();
        try {
            if (directive == null || directive.isEmpty()) {
                directives.remove(sessionKey);
            } else {
                directives.put(sessionKey, new DirectiveRow(directive, clock.epochMillis()));
            }
            return committed(null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Map<String, QueueOverride> queueDirectives() {
        lock.lock();
        try {
            Map<String, QueueOverride> copy = new HashMap<>();
            for (Map.Entry<String, DirectiveRow> entry : directives.entrySet()) {
                copy.put(entry.getKey(), entry.getValue().directive());
            }
            return copy;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Void> markDelivered(String replyId) {
        lock.lock();
        try {
            OutboxRow row = outbox.get(replyId);
            if (row != null) {
                outbox.put(replyId, new OutboxRow(row.reply(), row.createdAt(), row.row(), clock.epochMillis(),
                        row.failedAt(), row.failure()));
            }
            return committed(null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Void> markFailed(String replyId, String reason) {
        lock.lock();
        try {
            OutboxRow row = outbox.get(replyId);
            if (row != null && row.deliveredAt() == null) {
                outbox.put(replyId, new OutboxRow(row.reply(), row.createdAt(), row.row(), null, clock.epochMillis(), reason));
            }
            return committed(null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Optional<Reply>> requeueFailed(String replyId) {
        lock.lock();
        try {
            OutboxRow row = outbox.get(replyId);
            if (row == null || row.failedAt() == null) {
                return committed(Optional.empty());
            }
            outbox.put(replyId, new OutboxRow(row.reply(), row.createdAt(), row.row(), row.deliveredAt(), null, null));
            return committed(Optional.of(row.reply()));
        } finally {
            lock.unlock();
        }
    }

    /** Removes the rows the SQLite journal's prune removes, and counts them the same way. */
    @Override
    public CompletableFuture<Integer> prune(long olderThanEpochMs, int keepExchanges) {
        lock.lock();
        try {
            int removed = 0;
            for (var rows = messages.values().iterator(); rows.hasNext(); ) {
                MessageRow row = rows.next();
                if (!row.isPending() && row.settledAt() < olderThanEpochMs) {
                    rows.remove();
                    // Past retention the journal no longer holds the message, so it no longer knows it either.
                    seqByDedupeKey.remove(DedupeKey.of(row.message()), row.message().seq());
                    removed++;
                }
            }
            for (var rows = outbox.values().iterator(); rows.hasNext(); ) {
                OutboxRow row = rows.next();
                if ((row.deliveredAt() != null && row.deliveredAt() < olderThanEpochMs)
                        || (row.failedAt() != null && row.failedAt() < olderThanEpochMs)) {
                    rows.remove();
                    removed++;
                }
            }
            for (var rows = turns.values().iterator(); rows.hasNext(); ) {
                TurnRow row = rows.next();
                if (row.state() != TurnState.OPEN && row.createdAt() < olderThanEpochMs) {
                    rows.remove();
                    removed++;
                }
            }
            removed += pruneTranscript(olderThanEpochMs, keepExchanges);
            for (var rows = directives.entrySet().iterator(); rows.hasNext(); ) {
                Map.Entry<String, DirectiveRow> row = rows.next();
                if (row.getValue().savedAt() < olderThanEpochMs && !hasExchange(row.getKey()) && !hasOpenTurn(row.getKey())) {
                    rows.remove();
                    removed++;
                }
            }
            return committed(removed);
        } finally {
            lock.unlock();
        }
    }

    /** Removes each session's exchanges older than the cutoff except its newest {@code keep}; returns how many. */
    @GuardedBy("lock")
    private int pruneTranscript(long olderThanEpochMs, int keep) {
        Map<String, Integer> newer = new HashMap<>();
        List<ExchangeRow> kept = new ArrayList<>();
        for (int i = transcript.size() - 1; i >= 0; i--) {
            ExchangeRow row = transcript.get(i);
            int newerThanThis = newer.merge(row.sessionKey(), 1, Integer::sum) - 1;
            if (newerThanThis < keep || row.exchange().completedAtEpochMs() >= olderThanEpochMs) {
                kept.add(row);
            }
        }
        int removed = transcript.size() - kept.size();
        transcript.clear();
        for (int i = kept.size() - 1; i >= 0; i--) {
            transcript.add(kept.get(i));
        }
        return removed;
    }

    @GuardedBy("lock")
    private boolean hasExchange(String sessionKey) {
        for (ExchangeRow row : transcript) {
            if (row.sessionKey().equals(sessionKey)) {
                return true;
            }
        }
        return false;
    }

    @GuardedBy("lock")
    private boolean hasOpenTurn(String sessionKey) {
        for (TurnRow row : turns.values()) {
            if (row.state() == TurnState.OPEN && row.sessionKey().equals(sessionKey)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public List<InboundMessage> pendingMessages() {
        lock.lock();
        try {
            List<InboundMessage> pending = new ArrayList<>();
            for (MessageRow row : messages.values()) {
                if (row.isPending()) {
                    pending.add(row.message());
                }
            }
            return pending;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Turn> openTurns() {
        lock.lock();
        try {
            Map<Long, List<InboundMessage>> byTurn = new HashMap<>();
            for (MessageRow row : messages.values()) {
                if (row.isPending() && row.turnId() != null) {
                    byTurn.computeIfAbsent(row.turnId(), id -> new ArrayList<>()).add(row.message());
                }
            }
            List<Turn> open = new ArrayList<>();
            for (Map.Entry<Long, TurnRow> entry : turns.entrySet()) {
                TurnRow row = entry.getValue();
                List<InboundMessage> inTurn = byTurn.get(entry.getKey());
                if (row.state() == TurnState.OPEN && inTurn != null) {
                    open.add(new Turn(entry.getKey(), replyIds.forTurn(entry.getKey()), row.sessionKey(), inTurn, row.prompt()));
                }
            }
            return open;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Reply> undeliveredReplies() {
        lock.lock();
        try {
            return outbox.values().stream().filter(OutboxRow::isUndelivered)
                    .sorted(Comparator.comparingLong(OutboxRow::createdAt).thenComparingLong(OutboxRow::row))
                    .map(OutboxRow::reply).toList();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<FailedReply> failedReplies(int limit) {
        lock.lock();
        try {
            return outbox.values().stream().filter(row -> row.failedAt() != null)
                    .sorted(Comparator.comparingLong(OutboxRow::failedAt).thenComparingLong(OutboxRow::row).reversed())
                    .limit(Math.max(limit, 0))
                    .map(row -> new FailedReply(row.reply(), row.failure(), row.failedAt())).toList();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Exchange> transcript(String sessionKey, int limit) {
        if (limit <= 0) {
            return List.of();
        }
        lock.lock();
        try {
            List<Exchange> all = new ArrayList<>();
            for (ExchangeRow row : transcript) {
                if (row.sessionKey().equals(sessionKey)) {
                    all.add(row.exchange());
                }
            }
            return List.copyOf(all.subList(Math.max(0, all.size() - limit), all.size()));
        } finally {
            lock.unlock();
        }
    }

    /** Most recently active first: the session whose exchange was stored last, whatever its turn id. */
    @Override
    public List<SessionInfo> sessions(int offset, int limit) {
        if (limit <= 0) {
            return List.of();
        }
        lock.lock();
        try {
            Map<String, long[]> newestFirst = new LinkedHashMap<>();
            for (int i = transcript.size() - 1; i >= 0; i--) {
                ExchangeRow row = transcript.get(i);
                long[] turnsAndLastActive = newestFirst.computeIfAbsent(row.sessionKey(),
                        session -> new long[] {0, row.exchange().completedAtEpochMs()});
                turnsAndLastActive[0]++;
            }
            return newestFirst.entrySet().stream().skip(Math.max(0, offset)).limit(limit)
                    .map(entry -> new SessionInfo(entry.getKey(), entry.getValue()[0], entry.getValue()[1])).toList();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long sessionCount() {
        lock.lock();
        try {
            return transcript.stream().map(ExchangeRow::sessionKey).distinct().count();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public JournalStats stats() {
        lock.lock();
        try {
            Map<MessageState, Long> byState = new HashMap<>();
            for (MessageRow row : messages.values()) {
                byState.merge(row.state(), 1L, Long::sum);
            }
            long outboxPending = 0;
            long outboxFailed = 0;
            for (OutboxRow row : outbox.values()) {
                if (row.deliveredAt() == null) {
                    if (row.failedAt() == null) {
                        outboxPending++;
                    } else {
                        outboxFailed++;
                    }
                }
            }
            return new JournalStats(messages.size(), duplicates, byState.getOrDefault(MessageState.DONE, 0L),
                    byState.getOrDefault(MessageState.DROPPED, 0L), byState.getOrDefault(MessageState.SUPERSEDED, 0L),
                    byState.getOrDefault(MessageState.PENDING, 0L), outboxPending, outboxFailed);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public JournalHealth health() {
        // Memory is never full and never removed under a running journal.
        return JournalHealth.OK;
    }

    @Override
    public void close() {
        // Nothing to release: the state goes with the object.
    }
}
