package dev.ferry.journal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;

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
    private final Map<String, Deque<Exchange>> transcripts = new HashMap<>();
    private final Map<String, Long> turnCounts = new HashMap<>();
    private long lastSeq;
    private long lastTurnId;
    private long duplicates;
    private long done;

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
            for (InboundMessage message : messages) {
                if (!pending.containsKey(message.seq())) {
                    return CompletableFuture.failedFuture(new IllegalStateException(
                            "message seq=" + message.seq() + " is not pending"));
                }
                Long otherTurn = turnBySeq.get(message.seq());
                if (otherTurn != null) {
                    return CompletableFuture.failedFuture(new IllegalStateException(
                            "message seq=" + message.seq() + " already belongs to turn " + otherTurn));
                }
            }
            long turnId = ++lastTurnId;
            messages.forEach(message -> turnBySeq.put(message.seq(), turnId));
            String replyId = "fr-" + instanceId + "-" + turnId;
            return CompletableFuture.completedFuture(new Turn(turnId, replyId, sessionKey, messages, prompt));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletableFuture<Reply> completeTurn(Turn turn, String replyText) {
        InboundMessage last = turn.lastMessage();
        List<String> inReplyTo = turn.messages().stream().map(InboundMessage::messageId).collect(Collectors.toList());
        Reply reply = new Reply(turn.replyId(), turn.id(), turn.sessionKey(), last.channel(), last.account(),
                last.conversation(), last.sender(), last.threadId(), replyText, inReplyTo);
        lock.lock();
        try {
            for (InboundMessage message : turn.messages()) {
                if (pending.remove(message.seq()) != null) {
                    done++;
                }
                turnBySeq.remove(message.seq());
            }
            Deque<Exchange> transcript = transcripts.computeIfAbsent(turn.sessionKey(), k -> new ArrayDeque<>());
            turnCounts.merge(turn.sessionKey(), 1L, Long::sum);
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
    public List<InboundMessage> pendingMessages() {
        lock.lock();
        try {
            return List.copyOf(pending.values());
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
    public List<SessionInfo> sessions() {
        lock.lock();
        try {
            return transcripts.entrySet().stream()
                    .filter(entry -> !entry.getValue().isEmpty())
                    // Turn ids increase with every turn, so the newest last turn is the most recent activity,
                    // even for sessions completed within the same millisecond.
                    .sorted(Comparator.comparingLong((Map.Entry<String, Deque<Exchange>> entry) ->
                            entry.getValue().peekLast().turnId()).reversed())
                    .map(entry -> new SessionInfo(entry.getKey(), turnCounts.getOrDefault(entry.getKey(), 0L),
                            entry.getValue().peekLast().completedAtEpochMs()))
                    .collect(Collectors.toList());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public JournalStats stats() {
        lock.lock();
        try {
            return new JournalStats(lastSeq, duplicates, done, pending.size(), outbox.size());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        // Nothing to release: the state goes with the object.
    }
}
