package dev.ferry.session;

import java.util.List;

import dev.ferry.config.SessionScope;
import dev.ferry.journal.InboundMessage;
import dev.ferry.queue.TurnScheduler;

/**
 * Routes each batch to its session: a chat command to the {@link ChatCommandHandler}, anything else to
 * the session's followup queue. A batch shares one debounce key, so all its messages share one session
 * key; the last message decides it. Commands always arrive alone, since the debouncer never merges
 * them. Thread-safe; the scope may be replaced by a reload.
 */
public final class SessionRouter {

    private final TurnScheduler turns;
    private final ChatCommandHandler commands;
    private volatile SessionScope scope;

    public SessionRouter(SessionScope scope, TurnScheduler turns, ChatCommandHandler commands) {
        this.scope = scope;
        this.turns = turns;
        this.commands = commands;
    }

    public void route(List<InboundMessage> batch) {
        if (batch.isEmpty()) {
            return;
        }
        String sessionKey = SessionKeys.of(scope, batch.get(batch.size() - 1));
        if (batch.size() == 1 && ChatCommands.isCommand(batch.get(0).text())) {
            InboundMessage rest = commands.handle(sessionKey, batch.get(0));
            if (rest != null) {
                turns.submit(sessionKey, List.of(rest));
            }
            return;
        }
        turns.submit(sessionKey, batch);
    }

    /** The session {@code message} belongs to under the scope in use. */
    public String sessionKeyOf(InboundMessage message) {
        return SessionKeys.of(scope, message);
    }

    public void useScope(SessionScope newScope) {
        this.scope = newScope;
    }
}
