package dev.ferry.channel.telegram;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.channel.telegram.BotApi.BotResponse;
import dev.ferry.delivery.ReplyTransport;
import dev.ferry.delivery.SendOutcome;
import dev.ferry.journal.Reply;

/**
 * Sends replies with {@code sendMessage}: plain text, answering the last message of the turn's batch, in
 * the same forum topic, split into parts of at most 4096 characters sent in order. The platform's verdict
 * follows the outbox's rule: 429 (after its {@code retry_after}), 5xx, 401 and no answer at all are tried
 * again; a blocked bot, a chat that is gone or any other 400 refuse the reply for good. A 400 for a topic
 * that no longer exists is tried once more, at once, without the topic.
 *
 * <p>A reply whose first parts went out and whose next one failed continues, when the outbox tries it
 * again, from the part that failed: {@link #progress} remembers, per reply id, how many parts Telegram
 * took. Only a restart in between sends those parts again. Thread-safe: the outbox sends one reply at a
 * time per reply id, and the map is concurrent.
 */
final class TelegramReplies implements ReplyTransport {

    private final BotApi api;
    private final Typing typing;
    /** Parts of a reply Telegram has taken, by reply id, while the reply is not yet delivered. */
    private final Map<String, Integer> progress = new ConcurrentHashMap<>();

    TelegramReplies(BotApi api, Typing typing) {
        this.api = api;
        this.typing = typing;
    }

    @Override
    public CompletableFuture<SendOutcome> send(Reply reply) {
        List<String> parts = MessageParts.of(reply.text());
        ChatAddress address = ChatAddress.of(reply.conversation(), reply.threadId());
        if (address == null) {
            return CompletableFuture.completedFuture(SendOutcome.refused("not a Telegram chat: " + reply.conversation()));
        }
        return sendFrom(reply, parts, progress.getOrDefault(reply.replyId(), 0), address).whenComplete((outcome, error) -> {
            if (outcome != null && outcome.verdict() != SendOutcome.Verdict.RETRY) {
                progress.remove(reply.replyId());
                typing.stop(reply.conversation());
            }
        });
    }

    private CompletableFuture<SendOutcome> sendFrom(Reply reply, List<String> parts, int next, ChatAddress address) {
        if (next >= parts.size()) {
            return CompletableFuture.completedFuture(SendOutcome.DELIVERED);
        }
        return api.call("sendMessage", request(reply, parts.get(next), next == 0, address)).thenCompose(response -> {
            if (response.ok()) {
                progress.put(reply.replyId(), next + 1);
                return sendFrom(reply, parts, next + 1, address);
            }
            if (address.threadId() != null && response.errorCode() == 400 && threadGone(response)) {
                // The topic was closed or deleted: the chat itself still takes the reply.
                return sendFrom(reply, parts, next, address.withoutThread());
            }
            return CompletableFuture.completedFuture(outcome(response));
        });
    }

    private static ObjectNode request(Reply reply, String text, boolean first, ChatAddress address) {
        ObjectNode params = BotApi.JSON.createObjectNode().put("chat_id", address.chatId()).put("text", text);
        if (address.threadId() != null) {
            params.put("message_thread_id", address.threadId());
        }
        List<String> answered = reply.inReplyTo();
        if (first && !answered.isEmpty() && answered.get(answered.size() - 1).matches("\\d{1,18}")) {
            // The reply answers the batch's last message; sent without it should that message be gone.
            params.putObject("reply_parameters").put("message_id", Long.parseLong(answered.get(answered.size() - 1)))
                    .put("allow_sending_without_reply", true);
        }
        return params;
    }

    private static boolean threadGone(BotResponse response) {
        String description = response.description() == null ? "" : response.description().toLowerCase(java.util.Locale.ROOT);
        return description.contains("thread not found") || description.contains("topic_deleted")
                || description.contains("topic_closed");
    }

    /** The outbox's verdict on an answer that was not ok. */
    static SendOutcome outcome(BotResponse response) {
        int code = response.errorCode();
        String reason = "Telegram " + response.error();
        if (code == 429) {
            return SendOutcome.retry(reason, response.retryAfter());
        }
        if (code == 403 || code == 400) {
            // Blocked by the user, kicked from the group, the chat gone, or a request Telegram will never take.
            return SendOutcome.refused(reason);
        }
        // 401 (a token an operator will fix), 404, 409, 5xx: worth another try later.
        return SendOutcome.retry(reason, null);
    }
}
