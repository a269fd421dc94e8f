package dev.ferry.control;

import java.lang.management.ManagementFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.journal.Journal;
import dev.ferry.journal.JournalHealth;
import dev.ferry.journal.JournalStats;
import dev.ferry.queue.TurnScheduler;

/** {@code health} and {@code status} (SPEC 3.4): what the gateway is doing now, read without waiting on anything. */
public final class StatusRpc {

    private final LiveState live;
    private final Journal journal;
    private final TurnScheduler turns;

    public StatusRpc(LiveState live, Journal journal, TurnScheduler turns) {
        this.live = live;
        this.journal = journal;
        this.turns = turns;
    }

    void register(RpcMethods methods) {
        methods.addSync("health", params -> health()).addSync("status", params -> status());
    }

    public JsonNode health() {
        return Json.object().put("ok", true).put("generation", live.generation().getAsLong())
                .put("state", live.state().get());
    }

    public ObjectNode status() {
        JournalStats stats = journal.stats();
        ObjectNode status = Json.object()
                .put("generation", live.generation().getAsLong())
                .put("state", live.state().get())
                .put("uptimeMs", ManagementFactory.getRuntimeMXBean().getUptime())
                .put("agent", live.agent().get())
                .put("sessions", journal.sessionCount())
                .put("bufferedDebounceKeys", live.bufferedDebounceKeys().getAsInt())
                .put("runningTurns", turns.runningTurns())
                .put("errorReplies", turns.errorReplies());
        turns.lastAgentError().ifPresentOrElse(error -> status.putObject("agentError")
                .put("kind", error.kind())
                .put("message", error.message())
                .put("sessionKey", error.sessionKey())
                .put("turnId", error.turnId()), () -> status.putNull("agentError"));
        ArrayNode queues = status.putArray("queues");
        turns.snapshot().forEach(queue -> queues.addObject()
                .put("sessionKey", queue.sessionKey())
                .put("mode", queue.settings().mode().configName())
                .put("queued", queue.queued())
                .put("draining", queue.draining())
                .put("turnRunning", queue.turnRunning())
                .put("dropped", queue.dropped())
                .put("superseded", queue.superseded()));
        JournalHealth health = journal.health();
        status.putObject("journal")
                .put("writable", health.writable())
                .put("problem", health.problem())
                .put("received", stats.received())
                .put("duplicates", stats.duplicates())
                .put("done", stats.done())
                .put("dropped", stats.dropped())
                .put("superseded", stats.superseded())
                .put("pending", stats.pending());
        status.putObject("outbox").put("pending", stats.outboxPending()).put("failed", stats.outboxFailed());
        journal.cluster().ifPresentOrElse(cluster -> {
            ObjectNode instance = status.putObject("instance")
                    .put("id", cluster.instanceId())
                    .put("leaseTtlMs", cluster.leaseTtlMs())
                    .put("sessionsHeld", cluster.sessionsHeld())
                    .put("leasesLost", cluster.leasesLost())
                    .put("lateCommitsRefused", cluster.lateCommitsRefused())
                    .put("telegramPoller", cluster.telegramPoller());
            ArrayNode peers = instance.putArray("peers");
            cluster.peers().forEach(peer -> peers.addObject()
                    .put("id", peer.instanceId())
                    .put("host", peer.host())
                    .put("pid", peer.pid())
                    .put("heartbeatAgoMs", peer.heartbeatAgoMs()));
        }, () -> status.putNull("instance"));
        ObjectNode channels = status.putObject("channels");
        live.channels().get().forEach((name, channel) -> {
            ObjectNode node = channels.putObject(name).put("state", channel.state()).put("problem", channel.problem());
            channel.details().forEach((key, value) -> node.set(key, Json.MAPPER.valueToTree(value)));
        });
        return status;
    }
}
