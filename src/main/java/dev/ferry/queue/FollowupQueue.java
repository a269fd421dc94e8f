package dev.ferry.queue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import dev.ferry.config.DropPolicy;
import dev.ferry.config.QueueMode;
import dev.ferry.config.QueueSettings;
import dev.ferry.journal.InboundMessage;
import dev.ferry.time.DeadlineWait;

/**
 * One session's followup queue (SPEC 3.2): the batches waiting for a turn, in arrival order, with the
 * summaries of what the cap dropped and the times its drain bound counts from. Items leave only as a
 * turn's input, as a cap eviction or by {@code /stop}, and each way is reported to the caller.
 * Not thread-safe: it belongs to one {@link SessionQueue}, and is only touched with the scheduler's lock held.
 */
final class FollowupQueue {

    private final ArrayDeque<QueuedItem> items = new ArrayDeque<>();
    /** Items dropped by {@code summarize} whose summary has not yet been part of a prompt. */
    private int unsummarizedDrops;
    private final ArrayDeque<String> summaryLines = new ArrayDeque<>();
    /**
     * Items arrived while the session was busy, and the queue has not been empty and idle since (SPEC's
     * "draining"). A property of the queue, not of the turn: it spans every phase from the first queued
     * item to the end of the last followup turn.
     */
    private boolean draining;
    /** When the latest queued item joined: the quiet window counts from here. */
    private long lastEnqueuedAt;
    /**
     * When the first item queued since the last drain joined, or -1: the drain bound counts from here. Not
     * the oldest item still queued, since the cap drops the oldest and the bound would then slide forever.
     */
    private long firstQueuedAt = -1;
    private long droppedTotal;

    boolean isEmpty() {
        return items.isEmpty();
    }

    int size() {
        return items.size();
    }

    /** The next item to leave, or null. */
    QueuedItem head() {
        return items.peekFirst();
    }

    boolean isDraining() {
        return draining;
    }

    long droppedTotal() {
        return droppedTotal;
    }

    /** Items that arrived while the session was busy; what the cap counts. */
    int queuedCount() {
        int count = 0;
        for (QueuedItem item : items) {
            if (item.queued()) {
                count++;
            }
        }
        return count;
    }

    /** An idle session's batch, or a replayed turn: it waits only for a slot. */
    void addForSlot(QueuedItem item) {
        items.addLast(item);
    }

    /**
     * Applies an admission to an item that arrived while the session was busy: evicts the oldest queued items
     * the cap asks for (leaving summary lines under {@code summarize}), then queues the item unless the
     * admission refused it. Returns what was dropped, oldest first; the caller records it.
     */
    List<QueuedItem> admit(QueuedItem item, Admission admission, QueueSettings settings) {
        if (firstQueuedAt < 0 || oldestStillQueued() < 0) {
            firstQueuedAt = item.queuedAtMillis();
        }
        List<QueuedItem> dropped = new ArrayList<>(admission.evictOldest() + 1);
        for (int i = 0; i < admission.evictOldest(); i++) {
            QueuedItem oldest = removeOldestQueued();
            dropped.add(oldest);
            if (settings.drop() == DropPolicy.SUMMARIZE) {
                unsummarizedDrops++;
                summaryLines.addLast(FollowupPrompts.summaryLine(oldest.text()));
                while (summaryLines.size() > settings.cap()) {
                    summaryLines.removeFirst();
                }
            }
        }
        if (admission.queues()) {
            items.addLast(item);
        } else {
            dropped.add(item);
        }
        droppedTotal += messageCount(dropped);
        draining = true;
        lastEnqueuedAt = item.queuedAtMillis();
        return dropped;
    }

    /** The oldest item that is really queued; an idle batch waiting for a slot is not queued. */
    private QueuedItem removeOldestQueued() {
        var iterator = items.iterator();
        while (iterator.hasNext()) {
            QueuedItem candidate = iterator.next();
            if (candidate.queued()) {
                iterator.remove();
                return candidate;
            }
        }
        throw new IllegalStateException("cap reached with no queued item");
    }

    /**
     * When the queue may drain: after {@code debounceMs} of quiet since the last enqueue, and at the latest
     * {@code maxWaitMs} after the first item queued since the last drain, so a steady stream drains too.
     */
    long drainDueAt(QueueSettings settings) {
        long oldest = firstQueuedAt >= 0 ? firstQueuedAt : lastEnqueuedAt;
        // Saturating: a window of Long.MAX_VALUE means never, not a negative time long past.
        return Math.min(DeadlineWait.saturatedAdd(lastEnqueuedAt, settings.debounceMs()),
                DeadlineWait.saturatedAdd(oldest, settings.longestWaitMs()));
    }

    /**
     * Takes the next turn's input, or null when the queue is empty: a replayed turn as it is; in collect mode
     * every queued item in a row for the head's destination, in one prompt; else the head alone. The overflow
     * header of earlier drops goes in front, once.
     */
    TurnInput takeNext(QueueMode mode) {
        QueuedItem head = items.peekFirst();
        if (head == null) {
            return null;
        }
        if (head.replayed() != null) {
            items.pollFirst();
            return new TurnInput(head.messages(), head.replayed().prompt(), head.replayed());
        }
        List<QueuedItem> taken = new ArrayList<>();
        String prompt;
        if (mode == QueueMode.COLLECT && head.queued()) {
            while (!items.isEmpty() && items.peekFirst().queued()
                    && items.peekFirst().destination().equals(head.destination())) {
                taken.add(items.pollFirst());
            }
            prompt = FollowupPrompts.collect(taken);
        } else {
            taken.add(items.pollFirst());
            prompt = head.text();
        }
        if (unsummarizedDrops > 0) {
            String header = FollowupPrompts.overflowHeader(unsummarizedDrops, List.copyOf(summaryLines));
            prompt = FollowupPrompts.withOverflow(header, prompt);
            unsummarizedDrops = 0;
            summaryLines.clear();
        }
        // What stays queued waits from its own arrival; drops by the cap never move this, or a fast stream would never drain.
        firstQueuedAt = oldestStillQueued();
        List<InboundMessage> messages = taken.stream().flatMap(item -> item.messages().stream()).toList();
        return new TurnInput(messages, prompt, null);
    }

    /** Empties the queue for {@code /stop}: returns the cleared items, which count as dropped. */
    List<QueuedItem> clear() {
        List<QueuedItem> cleared = new ArrayList<>(items);
        items.clear();
        summaryLines.clear();
        unsummarizedDrops = 0;
        droppedTotal += messageCount(cleared);
        return cleared;
    }

    /** The session went idle with nothing queued: the drain is over. */
    void endDrain() {
        draining = false;
    }

    /** This queue's share of {@code waitForFollowupQueueDrain}'s remaining count (SPEC 3.2). */
    int remaining() {
        return items.size() + unsummarizedDrops + (draining ? 1 : 0);
    }

    /** Nothing here that a later message would need. */
    boolean isSettled() {
        return items.isEmpty() && !draining && unsummarizedDrops == 0;
    }

    /** When the oldest item still queued joined, or -1; items leave in arrival order, so it is the first. */
    private long oldestStillQueued() {
        for (QueuedItem item : items) {
            if (item.queued()) {
                return item.queuedAtMillis();
            }
        }
        return -1;
    }

    static int messageCount(List<QueuedItem> items) {
        int count = 0;
        for (QueuedItem item : items) {
            count += item.messages().size();
        }
        return count;
    }
}
