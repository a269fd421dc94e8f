package dev.ferry.control;

import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.journal.Journal;
import dev.ferry.queue.TurnScheduler;

/** {@code sessions.list} and {@code sessions.reset}: sessions as the journal keeps them. */
final class SessionRpc {

    private final Journal journal;
    private final TurnScheduler turns;

    SessionRpc(Journal journal, TurnScheduler turns) {
        this.journal = journal;
        this.turns = turns;
    }

    void register(RpcMethods methods) {
        methods.addSync("sessions.list", this::list).add("sessions.reset", this::reset);
    }

    /** One page of sessions, most recently active first; {@code nextOffset} is null on the last page. */
    private JsonNode list(ObjectNode params) {
        int limit = Params.intParam(params, "limit", 100, 1, 1000);
        int offset = Params.intParam(params, "offset", 0, 0, Integer.MAX_VALUE);
        long total = journal.sessionCount();
        ArrayNode sessions = Json.MAPPER.createArrayNode();
        journal.sessions(offset, limit).forEach(session -> sessions.addObject()
                .put("sessionKey", session.sessionKey())
                .put("turns", session.turns())
                .put("lastActiveEpochMs", session.lastActiveEpochMs()));
        ObjectNode payload = Json.object();
        payload.set("sessions", sessions);
        payload.put("total", total);
        return offset + (long) limit < total ? payload.put("nextOffset", offset + limit) : payload.putNull("nextOffset");
    }

    /** Clears one session's transcript and {@code /queue} settings. */
    private CompletableFuture<JsonNode> reset(ObjectNode params) {
        String sessionKey = Params.requiredText(params, "sessionKey", "sessions.list");
        return turns.changeDirective(sessionKey, stored -> null)
                .thenCompose(ignored -> journal.resetSession(sessionKey))
                .thenApply(ignored -> Json.object().put("sessionKey", sessionKey).put("reset", true));
    }
}
