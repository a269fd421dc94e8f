package dev.ferry.journal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;

import dev.ferry.config.QueueOverride;

/**
 * A journal held in memory: every guarantee of {@link Journal} except surviving the process. It
 * serves tests and runs where losing state on exit is acceptable. Thread-safe; all state is guarded
 * by {@code lock}, and every write is "committed" before its future completes.
 */
public final class InMemoryJournal implements Journal {

    /** Transcripts are only read for the newest turns; keeping more is memory with no reader. */
    private static final int TRANSCRIPT_KEEP = 200;

    private final ReentrantLock lock = new ReentrantLock();
    // Reply ids must never repeat across journals, or an idempotent receiver would drop a new reply.
    private final String instanceId = UUID.randomUUID().toString().substring(0, 8);
    private final Map<DedupeKey, Long> seqByDedupeKey = new HashMap<>();
    private final TreeMap<Long, InboundMessage> pending = new TreeMap<>();
    private final Map<Long, Long> turnBySeq = new HashMap<>();
    private final LinkedHashMap<String, Reply> outbox = new LinkedHashMap<>();
    /** Failed replies, oldest failure first. */
    private final LinkedHashMap<String, FailedReply> failed = new LinkedHashMap<>();
    /** Only sessions with at least one exchange: a deque is removed, never left empty. */
    private final Map<String, Deque<Exchange>> transcripts = new HashMap<>();
    /** Per session, the number of the completion that last touched it. */
    private final Map<String, Long> lastCompletion = new HashMap<>();
    private long completions;
    private final Map<String, QueueOverride> directives = new HashMap<>();
    /** Per session with a directive, when it was saved. */
    private final Map<String, Long> directiveSavedAt = new HashMap<>();
    /** Turn id to session key, for turns neither completed nor superseded. */
    private final Map<Long, String> openTurnSessions = new HashMap<>();
    private long lastSeq;
    private long lastTurnId;
    private long lastNoticeId;
    private long duplicates;
    private long done;
    private long dropped;
    private long superseded;

    private record DedupeKey(String channel, String account, String conversation, String messageId) {}

    @Override
    public CompletableFuture<AppendResult> append(InboundMessage message) {
        var key = new DedupeKey(message.channel(), message.account(), message.conversation(), message.messageId());
        lock.lock();
        try {
            Long existing = seqByDedupeKey.get(key);
            if (existing != null) {
                duplicates++;
                return CompletableFuture.completedFuture(new AppendResult(existing, true));
            }
            long seq = ++lastSeq;
            seqByDedupeKey.put(key, seq);
            pending.put(seq, message.withSeq(seq));
            return CompletableFuture.completedFuture(new AppendResult(seq, false));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Turn> startTurn(String sessionKey, List<InboundMessage> messages, String prompt) {
        lock.lock();
        try {
            IllegalStateException refused = refuseUnlessFree(messages);
            if (refused != null) {
                return CompletableFuture.failedFuture(refused);
            }
            long turnId = ++lastTurnId;
            messages.forEach(message -> turnBySeq.put(message.seq(), turnId));
            openTurnSessions.put(turnId, sessionKey);
            String replyId = "fr-" + instanceId + "-" + turnId;
            return CompletableFuture.completedFuture(new Turn(turnId, replyId, sessionKey, messages, prompt));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Turn> joinTurn(Turn turn, InboundMessage message) {
        lock.lock();
        try {
            IllegalStateException refused = refuseUnlessFree(List.of(message));
            if (refused != null) {
                return CompletableFuture.failedFuture(refused);
            }
            turnBySeq.put(message.seq(), turn.id());
            return CompletableFuture.completedFuture(turn.including(message));
        } finally {
            lock.unlock();
        }
    }

    /** Must hold lock. A message may join a turn only while it is pending and in no turn. */
    private IllegalStateException refuseUnlessFree(List<InboundMessage> messages) {
        for (InboundMessage message : messages) {
            if (!pending.containsKey(message.seq())) {
                return new IllegalStateException("message seq=" + message.seq() + " is not pending");
            }
            Long otherTurn = turnBySeq.get(message.seq());
            if (otherTurn != null) {
                return new IllegalStateException("message seq=" + message.seq() + " already belongs to turn " + otherTurn);
            }
        }
        return null;
    }

    @Override
    public CompletableFuture<Reply> completeTurn(Turn turn, String replyText) {
        Reply reply = Reply.answering(turn.replyId(), turn.id(), turn.sessionKey(), turn.messages(), replyText);
        lock.lock();
        try {
            done += settle(turn.messages());
            openTurnSessions.remove(turn.id());
            Deque<Exchange> transcript = transcripts.computeIfAbsent(turn.sessionKey(), k -> new ArrayDeque<>());
            lastCompletion.put(turn.sessionKey(), ++completions);
            transcript.addLast(new Exchange(turn.id(), turn.prompt(), replyText, System.currentTimeMillis()));
            while (transcript.size() > TRANSCRIPT_KEEP) {
                transcript.removeFirst();
            }
            outbox.put(reply.replyId(), reply);
            return CompletableFuture.completedFuture(reply);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Void> supersedeTurn(Turn turn, String reason) {
        lock.lock();
        try {
            superseded += settle(turn.messages());
            openTurnSessions.remove(turn.id());
            return CompletableFuture.completedFuture(null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Void> dropMessages(List<InboundMessage> messages, String reason) {
        lock.lock();
        try {
            dropped += settle(messages);
            return CompletableFuture.completedFuture(null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Reply> completeWithoutTurn(String sessionKey, InboundMessage message, String replyText) {
        Reply reply = Reply.answering("fr-" + instanceId + "-c" + message.seq(), 0, sessionKey, List.of(message),
                replyText);
        lock.lock();
        try {
            done += settle(List.of(message));
            outbox.put(reply.replyId(), reply);
            return CompletableFuture.completedFuture(reply);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Reply> recordNotice(String sessionKey, InboundMessage about, String text) {
        lock.lock();
        try {
            String replyId = "fr-" + instanceId + "-n" + (++lastNoticeId);
            Reply notice = Reply.notice(replyId, sessionKey, about, text);
            outbox.put(replyId, notice);
            return CompletableFuture.completedFuture(notice);
        } finally {
            lock.unlock();
        }
    }

    /** Must hold lock. Takes messages out of pending; returns how many were still pending. */
    private int settle(List<InboundMessage> messages) {
        int settled = 0;
        for (InboundMessage message : messages) {
            if (pending.remove(message.seq()) != null) {
                settled++;
            }
            turnBySeq.remove(message.seq());
        }
        return settled;
    }


    @Override
    public CompletableFuture<Void> resetSession(String sessionKey) {
        lock.lock();
        try {
            transcripts.remove(sessionKey);
            lastCompletion.remove(sessionKey);
            return CompletableFuture.completedFuture(null);
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
                directiveSavedAt.remove(sessionKey);
            } else {
                directives.put(sessionKey, directive);
                directiveSavedAt.put(sessionKey, System.currentTimeMillis());
            }
            return CompletableFuture.completedFuture(null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Map<String, QueueOverride> queueDirectives() {
        lock.lock();
        try {
            return new HashMap<>(directives);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Void> markDelivered(String replyId) {
        lock.lock();
        try {
            outbox.remove(replyId);
            return CompletableFuture.completedFuture(null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Void> markFailed(String replyId, String reason) {
        lock.lock();
        try {
            Reply reply = outbox.remove(replyId);
            if (reply != null) {
                failed.put(replyId, new FailedReply(reply, reason, System.currentTimeMillis()));
            }
            return CompletableFuture.completedFuture(null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Optional<Reply>> requeueFailed(String replyId) {
        lock.lock();
        try {
            FailedReply failure = failed.remove(replyId);
            if (failure == null) {
                return CompletableFuture.completedFuture(Optional.empty());
            }
            outbox.put(replyId, failure.reply());
            return CompletableFuture.completedFuture(Optional.of(failure.reply()));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<InboundMessage> pendingMessages() {
        lock.lock();
        try {
            return List.copyOf(pending.values());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Turn> openTurns() {
        // Nothing survives the process here, so a new start never finds an open turn.
        return List.of();
    }

    /** Prunes exchanges and {@code /queue} settings as the durable journal does; settled messages are not kept here anyway. */
    @Override
    public CompletableFuture<Integer> prune(long olderThanEpochMs, int keepExchanges) {
        lock.lock();
        try {
            int removed = 0;
            for (var sessions = transcripts.values().iterator(); sessions.hasNext(); ) {
                Deque<Exchange> transcript = sessions.next();
                while (transcript.size() > keepExchanges && transcript.peekFirst().completedAtEpochMs() < olderThanEpochMs) {
                    transcript.removeFirst();
                    removed++;
                }
                if (transcript.isEmpty()) {
                    sessions.remove();
                }
            }
            lastCompletion.keySet().retainAll(transcripts.keySet());
            for (var saved = directiveSavedAt.entrySet().iterator(); saved.hasNext(); ) {
                Map.Entry<String, Long> entry = saved.next();
                if (entry.getValue() < olderThanEpochMs && !transcripts.containsKey(entry.getKey())
                        && !openTurnSessions.containsValue(entry.getKey())) {
                    directives.remove(entry.getKey());
                    saved.remove();
                    removed++;
                }
            }
            return CompletableFuture.completedFuture(removed);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Reply> undeliveredReplies() {
        lock.lock();
        try {
            return List.copyOf(outbox.values());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<FailedReply> failedReplies(int limit) {
        lock.lock();
        try {
            List<FailedReply> newestFirst = new ArrayList<>(failed.values());
            Collections.reverse(newestFirst);
            return List.copyOf(newestFirst.subList(0, Math.min(Math.max(limit, 0), newestFirst.size())));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Exchange> transcript(String sessionKey, int limit) {
        lock.lock();
        try {
            Deque<Exchange> transcript = transcripts.getOrDefault(sessionKey, new ArrayDeque<>());
            List<Exchange> all = new ArrayList<>(transcript);
            return List.copyOf(all.subList(Math.max(0, all.size() - limit), all.size()));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<SessionInfo> sessions(int offset, int limit) {
        lock.lock();
        try {
            return transcripts.entrySet().stream()
                    // Completion order, not turn ids: a turn started earlier may finish later.
                    .sorted(Comparator.comparingLong((Map.Entry<String, Deque<Exchange>> entry) ->
                            lastCompletion.getOrDefault(entry.getKey(), 0L)).reversed())
                    .skip(Math.max(0, offset))
                    .limit(Math.max(0, limit))
                    .map(entry -> new SessionInfo(entry.getKey(), entry.getValue().size(),
                            entry.getValue().peekLast().completedAtEpochMs()))
                    .collect(Collectors.toList());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long sessionCount() {
        lock.lock();
        try {
            return transcripts.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public JournalStats stats() {
        lock.lock();
        try {
            return new JournalStats(lastSeq, duplicates, done, dropped, superseded, pending.size(), outbox.size(),
                    failed.size());
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
