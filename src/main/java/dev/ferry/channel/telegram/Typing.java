package dev.ferry.channel.telegram;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.time.Scheduler;

/**
 * The "typing…" Telegram shows while a turn runs: {@code sendChatAction} from when a message is journaled
 * until the reply to its conversation is sent, renewed every {@value #RENEW_SECONDS} seconds (Telegram
 * shows an action for five). A turn that never answers stops showing it after {@link #LONGEST}. Best
 * effort: a failed action is not retried, since the next renewal comes soon. Thread-safe.
 */
final class Typing {

    static final long RENEW_SECONDS = 4;
    private static final Duration LONGEST = Duration.ofMinutes(3);

    private final BotApi api;
    private final Scheduler scheduler;
    /** The running indicator of each conversation. */
    private final Map<String, Indicator> shown = new ConcurrentHashMap<>();
    private volatile boolean closed;

    Typing(BotApi api, Scheduler scheduler) {
        this.api = api;
        this.scheduler = scheduler;
    }

    /** Shows "typing…" in the message's chat and topic, unless it shows there already. */
    void start(String conversation, ChatAddress address) {
        if (closed || address == null) {
            return;
        }
        Indicator indicator = new Indicator(conversation, address, scheduler.nowMillis() + LONGEST.toMillis());
        if (shown.putIfAbsent(conversation, indicator) == null) {
            indicator.renew();
        }
    }

    void stop(String conversation) {
        Indicator indicator = shown.remove(conversation);
        if (indicator != null) {
            indicator.cancel();
        }
    }

    void close() {
        closed = true;
        shown.keySet().forEach(this::stop);
    }

    private final class Indicator {
        private final String conversation;
        private final ObjectNode params;
        private final long untilMillis;
        private volatile Scheduler.Cancellable next;
        private volatile boolean cancelled;

        Indicator(String conversation, ChatAddress address, long untilMillis) {
            this.conversation = conversation;
            this.params = BotApi.JSON.createObjectNode().put("chat_id", address.chatId()).put("action", "typing");
            if (address.threadId() != null) {
                params.put("message_thread_id", address.threadId());
            }
            this.untilMillis = untilMillis;
        }

        void renew() {
            if (cancelled || closed || scheduler.nowMillis() >= untilMillis) {
                shown.remove(conversation, this);
                return;
            }
            var unused = api.call("sendChatAction", params.deepCopy());
            next = scheduler.schedule(Duration.ofSeconds(RENEW_SECONDS), this::renew);
        }

        void cancel() {
            cancelled = true;
            Scheduler.Cancellable pending = next;
            if (pending != null) {
                pending.cancel();
            }
        }
    }
}
