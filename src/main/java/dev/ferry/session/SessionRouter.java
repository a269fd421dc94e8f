package dev.ferry.session;

import java.util.List;

import dev.ferry.config.SessionScope;
import dev.ferry.journal.InboundMessage;
import dev.ferry.queue.TurnScheduler;

/**
 * Routes each batch to its session's followup queue. A batch shares one debounce key, so all its
 * messages share one session key; the last message decides it. Thread-safe and stateless apart from
 * the scope, which a reload may replace.
 */
public final class SessionRouter {

    private final TurnScheduler turns;
    private volatile SessionScope scope;

    public SessionRouter(SessionScope scope, TurnScheduler turns) {
        this.scope = scope;
        this.turns = turns;
    }

    public void route(List<InboundMessage> batch) {
        if (batch.isEmpty()) {
            return;
        }
        String sessionKey = SessionKeys.of(scope, batch.get(batch.size() - 1));
        turns.submit(sessionKey, batch);
    }

    public void useScope(SessionScope newScope) {
        this.scope = newScope;
    }
}
