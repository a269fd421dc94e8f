package dev.ferry.channel.telegram;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Media;

/**
 * Reads one Bot API {@code Update} as the message Ferry journals, or says why it is ignored. A private
 * chat, a group and each forum topic are conversations of their own: the conversation is the chat id, with
 * {@code :<message_thread_id>} for a topic message, and the thread id is kept so the reply goes to the same
 * topic. The message id is Telegram's {@code message_id}, unique within its chat, so an update Telegram
 * sends again is a duplicate in the journal; the reply answers it by that id. Immutable.
 */
final class UpdateReader {

    /** The update kinds asked for: Ferry answers messages only, and ignores the rest it still gets. */
    static final List<String> ALLOWED_UPDATES = List.of("message");

    /** What became of one update. */
    sealed interface Read permits Accepted, Ignored {}

    record Accepted(InboundMessage message) implements Read {}

    /** {@code reason} is a metric tag: one of a few fixed words. */
    record Ignored(String reason) implements Read {}

    private static final Set<String> GROUPS = Set.of("group", "supergroup");
    /** {@code /name} or {@code /name@bot} at the start of the text, as the Bot API defines a command. */
    private static final Pattern BARE_COMMAND =
            Pattern.compile("(/[A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?(?=\\s|$)");

    private final String account;
    private final long botId;
    /** Without the {@code @}, lower case. */
    private final String botUsername;
    private final boolean requireMention;
    /** User ids allowed to talk to the bot; null allows everyone ({@code *}). */
    private final Set<String> allowFrom;
    /** {@code @botname} as a word of its own, in any case. */
    private final Pattern mention;

    UpdateReader(String account, long botId, String botUsername, boolean requireMention, List<String> allowFrom) {
        this.account = account;
        this.botId = botId;
        this.botUsername = botUsername.toLowerCase(Locale.ROOT);
        this.requireMention = requireMention;
        this.allowFrom = allowFrom.contains("*") ? null : Set.copyOf(allowFrom);
        this.mention = Pattern.compile("(?i)(?<![\\w@])\\s*@" + Pattern.quote(this.botUsername) + "(?!\\w)");
    }

    Read read(JsonNode update, long receivedAtEpochMs) {
        JsonNode message = update.get("message");
        if (message == null || !message.isObject()) {
            return new Ignored(otherKind(update));
        }
        JsonNode from = message.path("from");
        JsonNode chat = message.path("chat");
        if (!chat.path("id").canConvertToLong() || !message.path("message_id").canConvertToLong()) {
            return new Ignored("malformed");
        }
        if (from.path("is_bot").asBoolean(false)) {
            return new Ignored("from_bot");
        }
        String sender = from.path("id").canConvertToLong() ? from.path("id").asText() : chat.path("id").asText();
        if (allowFrom != null && !allowFrom.contains(sender) && !allowedByName(from)) {
            return new Ignored("not_allowed");
        }
        String text = message.path("text").isTextual() ? message.path("text").asText()
                : message.path("caption").asText("");
        List<Media> media = new ArrayList<>();
        String placeholder = media(message, media);
        boolean group = GROUPS.contains(chat.path("type").asText());
        JsonNode entities = message.has("entities") ? message.path("entities") : message.path("caption_entities");
        Command command = command(text, entities);
        if (command != null && command.forOtherBot()) {
            return new Ignored("other_bot");
        }
        if (group && requireMention && command == null && !mentionsBot(text, entities) && !repliesToBot(message)) {
            return new Ignored("not_mentioned");
        }
        if (command != null) {
            text = command.withoutSuffix();
        } else if (group) {
            text = withoutMention(text);
        }
        if (placeholder != null) {
            text = text.isEmpty() ? placeholder : placeholder + " " + text;
        }
        if (text.isBlank()) {
            return new Ignored("empty");
        }
        String chatId = chat.path("id").asText();
        boolean topic = message.path("is_topic_message").asBoolean(false) && message.path("message_thread_id").canConvertToLong();
        String threadId = topic ? message.path("message_thread_id").asText() : null;
        String conversation = ChatAddress.conversation(chatId, threadId);
        return new Accepted(new InboundMessage(0, TelegramChannel.NAME, account, conversation, sender,
                message.path("message_id").asText(), text, threadId, null, media, receivedAtEpochMs));
    }

    /** Whether {@code allowFrom} names the sender by {@code @username}, in any case. */
    private boolean allowedByName(JsonNode from) {
        String username = from.path("username").asText("");
        return !username.isEmpty() && allowFrom.stream().map(entry -> entry.startsWith("@") ? entry.substring(1) : entry)
                .anyMatch(username::equalsIgnoreCase);
    }

    /** The kind of an update that carries no new message, as its metric tag. */
    private static String otherKind(JsonNode update) {
        for (String kind : List.of("edited_message", "channel_post", "edited_channel_post", "callback_query",
                "inline_query", "my_chat_member", "chat_member", "message_reaction", "poll")) {
            if (update.has(kind)) {
                return kind;
            }
        }
        return "other";
    }

    /** Notes a photo, document, voice note or sticker as media and answers its placeholder; null for none. */
    private static String media(JsonNode message, List<Media> media) {
        if (message.path("photo").isArray() && !message.path("photo").isEmpty()) {
            JsonNode photos = message.path("photo");
            media.add(new Media("telegram:" + photos.get(photos.size() - 1).path("file_id").asText(), "image/jpeg"));
            return "[photo]";
        }
        for (String kind : List.of("document", "voice", "audio", "video", "sticker", "animation", "video_note")) {
            JsonNode file = message.path(kind);
            if (file.isObject() && file.path("file_id").isTextual()) {
                String mime = file.path("mime_type").isTextual() ? file.path("mime_type").asText()
                        : "sticker".equals(kind) ? "image/webp" : "application/octet-stream";
                media.add(new Media("telegram:" + file.path("file_id").asText(), mime));
                return "[" + ("video_note".equals(kind) ? "video" : kind) + "]";
            }
        }
        return null;
    }

    /** A {@code bot_command} entity at the start of the text, with its {@code @botname} if any. */
    private Command command(String text, JsonNode entities) {
        for (JsonNode entity : entities) {
            if ("bot_command".equals(entity.path("type").asText()) && entity.path("offset").asInt(-1) == 0) {
                int length = Math.min(entity.path("length").asInt(0), text.length());
                String word = text.substring(0, length);
                int at = word.indexOf('@');
                String suffix = at < 0 ? null : word.substring(at + 1).toLowerCase(Locale.ROOT);
                return new Command(at < 0 ? word : word.substring(0, at), text.substring(length), forOtherBot(suffix));
            }
        }
        // Telegram marks every command with an entity; a sender that leaves it out still means one.
        Matcher bare = BARE_COMMAND.matcher(text);
        if (bare.lookingAt()) {
            String suffix = bare.group(2) == null ? null : bare.group(2).toLowerCase(Locale.ROOT);
            return new Command(bare.group(1), text.substring(bare.end()), forOtherBot(suffix));
        }
        return null;
    }


    /** Whether a command's {@code @suffix} (lower case, null for none) names a bot other than this one. */
    private boolean forOtherBot(String suffix) {
        return suffix != null && !suffix.equals(botUsername);
    }

    /** A command, its {@code @suffix} taken off. */
    private record Command(String name, String rest, boolean forOtherBot) {
        String withoutSuffix() {
            return name + rest;
        }
    }

    /**
     * Whether a {@code mention} of {@code @botname} or a {@code text_mention} of the bot is in the text; or,
     * for a message that came without entities, {@code @botname} as a word of its own.
     */
    private boolean mentionsBot(String text, JsonNode entities) {
        if (entities.isEmpty()) {
            return mention.matcher(text).find();
        }
        for (JsonNode entity : entities) {
            String type = entity.path("type").asText();
            if ("text_mention".equals(type) && entity.path("user").path("id").asLong(-1) == botId) {
                return true;
            }
            if ("mention".equals(type)) {
                int offset = entity.path("offset").asInt(-1);
                int length = entity.path("length").asInt(0);
                if (offset >= 0 && offset + length <= text.length()
                        && text.substring(offset, offset + length).equalsIgnoreCase("@" + botUsername)) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean repliesToBot(JsonNode message) {
        return message.path("reply_to_message").path("from").path("id").asLong(-1) == botId;
    }

    /** The text without a leading {@code @name}, which says who is asked, not what; a mention mid-sentence stays. */
    private String withoutMention(String text) {
        Matcher leading = mention.matcher(text);
        if (!leading.lookingAt()) {
            return text;
        }
        String rest = text.substring(leading.end()).replaceFirst("^[\\s,:;.!-]+", "");
        return rest.isEmpty() ? text : rest;
    }
}
