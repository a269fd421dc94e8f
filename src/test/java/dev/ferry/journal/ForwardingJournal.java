package dev.ferry.journal;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import dev.ferry.config.QueueOverride;

/**
 * A journal that hands every call to another one. Test fakes extend it and override only what they
 * change (a slow commit, a failing append, a recorded turn), so a method added to {@link Journal} is
 * added here once and nowhere else. Thread-safe when the delegate is.
 */
public class ForwardingJournal implements Journal {

    private final Journal delegate;

    public ForwardingJournal(Journal delegate) {
        this.delegate = delegate;
    }

    protected final Journal delegate() {
        return delegate;
    }

    @Override
    public CompletableFuture<AppendResult> append(InboundMessage message) {
        return delegate.append(message);
    }

    @Override
    public CompletableFuture<List<AppendResult>> appendAll(List<InboundMessage> messages, ChannelCursor cursor) {
        return delegate.appendAll(messages, cursor);
    }

    @Override
    public Optional<String> cursor(String channel, String account) {
        return delegate.cursor(channel, account);
    }

    @Override
    public CompletableFuture<Turn> startTurn(String sessionKey, List<InboundMessage> messages, String prompt) {
        return delegate.startTurn(sessionKey, messages, prompt);
    }

    @Override
    public CompletableFuture<Reply> completeTurn(Turn turn, String replyText) {
        return delegate.completeTurn(turn, replyText);
    }

    @Override
    public CompletableFuture<Reply> failTurn(Turn turn, String replyText, String reason) {
        return delegate.failTurn(turn, replyText, reason);
    }

    @Override
    public CompletableFuture<Turn> joinTurn(Turn turn, InboundMessage message) {
        return delegate.joinTurn(turn, message);
    }

    @Override
    public CompletableFuture<Void> supersedeTurn(Turn turn, String reason) {
        return delegate.supersedeTurn(turn, reason);
    }

    @Override
    public CompletableFuture<Void> dropMessages(List<InboundMessage> messages, String reason) {
        return delegate.dropMessages(messages, reason);
    }

    @Override
    public CompletableFuture<Reply> completeWithoutTurn(String sessionKey, InboundMessage message, String replyText) {
        return delegate.completeWithoutTurn(sessionKey, message, replyText);
    }

    @Override
    public CompletableFuture<Reply> recordNotice(String sessionKey, InboundMessage about, String text) {
        return delegate.recordNotice(sessionKey, about, text);
    }

    @Override
    public CompletableFuture<Void> resetSession(String sessionKey) {
        return delegate.resetSession(sessionKey);
    }

    @Override
    public CompletableFuture<Void> saveQueueDirective(String sessionKey, QueueOverride directive) {
        return delegate.saveQueueDirective(sessionKey, directive);
    }

    @Override
    public Map<String, QueueOverride> queueDirectives() {
        return delegate.queueDirectives();
    }

    @Override
    public CompletableFuture<Void> markDelivered(String replyId) {
        return delegate.markDelivered(replyId);
    }

    @Override
    public CompletableFuture<Void> markFailed(String replyId, String reason) {
        return delegate.markFailed(replyId, reason);
    }

    @Override
    public CompletableFuture<Optional<Reply>> requeueFailed(String replyId) {
        return delegate.requeueFailed(replyId);
    }

    @Override
    public List<InboundMessage> pendingMessages() {
        return delegate.pendingMessages();
    }

    @Override
    public List<Turn> openTurns() {
        return delegate.openTurns();
    }

    @Override
    public CompletableFuture<Integer> prune(long olderThanEpochMs, int keepExchanges) {
        return delegate.prune(olderThanEpochMs, keepExchanges);
    }

    @Override
    public List<Reply> undeliveredReplies() {
        return delegate.undeliveredReplies();
    }

    @Override
    public List<FailedReply> failedReplies(int limit) {
        return delegate.failedReplies(limit);
    }

    @Override
    public List<Exchange> transcript(String sessionKey, int limit) {
        return delegate.transcript(sessionKey, limit);
    }

    @Override
    public List<SessionInfo> sessions(int offset, int limit) {
        return delegate.sessions(offset, limit);
    }

    @Override
    public long sessionCount() {
        return delegate.sessionCount();
    }

    @Override
    public JournalStats stats() {
        return delegate.stats();
    }

    @Override
    public JournalHealth health() {
        return delegate.health();
    }

    @Override
    public void close() {
        delegate.close();
    }

    @Override
    public void resume(Takeover takeover) {
        delegate.resume(takeover);
    }

    @Override
    public boolean runsHere(InboundMessage journaled) {
        return delegate.runsHere(journaled);
    }

    @Override
    public Optional<ClusterView> cluster() {
        return delegate.cluster();
    }

    @Override
    public boolean polls(String channel, String account) {
        return delegate.polls(channel, account);
    }
}
