package dev.ferry.channel.telegram;

/**
 * Where in Telegram a conversation is: a chat, and the forum topic when it has one. The one place that
 * knows how a conversation is spelled ({@code <chat id>}, or {@code <chat id>:<topic id>} for a topic):
 * {@link UpdateReader} writes it, replies and the typing indicator read it back. Immutable.
 */
record ChatAddress(long chatId, Long threadId) {

    /** The conversation of a message in {@code chatId}, in {@code threadId}'s topic unless it is null. */
    static String conversation(String chatId, String threadId) {
        return threadId == null ? chatId : chatId + ":" + threadId;
    }

    /** The address of a conversation, with the thread its message came in; null when it is not a Telegram chat. */
    static ChatAddress of(String conversation, String threadId) {
        int colon = conversation.indexOf(':');
        String chat = colon < 0 ? conversation : conversation.substring(0, colon);
        if (!chat.matches("-?\\d{1,18}") || (threadId != null && !threadId.matches("\\d{1,18}"))) {
            return null;
        }
        return new ChatAddress(Long.parseLong(chat), threadId == null ? null : Long.parseLong(threadId));
    }

    ChatAddress withoutThread() {
        return new ChatAddress(chatId, null);
    }
}
