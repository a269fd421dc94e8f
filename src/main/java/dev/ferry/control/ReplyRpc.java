package dev.ferry.control;

import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.delivery.Outbox;
import dev.ferry.journal.Journal;

/** {@code replies.failed} and {@code replies.retry}: the replies a platform refused for good, and sending one again. */
final class ReplyRpc {

    private final Journal journal;
    private final Outbox outbox;

    ReplyRpc(Journal journal, Outbox outbox) {
        this.journal = journal;
        this.outbox = outbox;
    }

    void register(RpcMethods methods) {
        methods.addSync("replies.failed", this::failed).add("replies.retry", this::retry);
    }

    /** Failed replies, newest first, with the reason the platform gave. */
    private JsonNode failed(ObjectNode params) {
        ArrayNode replies = Json.MAPPER.createArrayNode();
        journal.failedReplies(Params.limit(params)).forEach(failed -> replies.addObject()
                .put("replyId", failed.reply().replyId())
                .put("sessionKey", failed.reply().sessionKey())
                .put("channel", failed.reply().channel())
                .put("conversation", failed.reply().conversation())
                .put("reason", failed.reason())
                .put("failedAtEpochMs", failed.failedAtEpochMs())
                .put("text", failed.reply().text()));
        return Json.object().set("replies", replies);
    }

    /** Puts one failed reply back in the outbox; a second call for it fails until it has failed again. */
    private CompletableFuture<JsonNode> retry(ObjectNode params) {
        String replyId = Params.requiredText(params, "replyId", "replies.failed");
        return outbox.retryFailed(replyId).thenApply(requeued -> {
            if (requeued.isEmpty()) {
                throw new RpcException("NOT_FOUND", 404, "params.replyId: no failed reply \"" + replyId
                        + "\" (see replies.failed)");
            }
            return Json.object().put("replyId", replyId).put("requeued", true);
        });
    }
}
