package dev.ferry.journal;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.ferry.config.QueueOverride;
import dev.ferry.config.QueueOverrideCodec;

/**
 * How the journal's records become rows and columns and back, for every SQL engine (their tables have the
 * same columns): the JSON columns, and a row read as a record.
 */
public final class JournalRows {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JournalRows() {}

    public static List<InboundMessage> messagesFrom(ResultSet rows) throws SQLException {
        List<InboundMessage> messages = new ArrayList<>();
        while (rows.next()) {
            messages.add(messageFrom(rows));
        }
        return messages;
    }

    public static InboundMessage messageFrom(ResultSet row) throws SQLException {
        String media = row.getString("media");
        return new InboundMessage(row.getLong("seq"), row.getString("channel"), row.getString("account"),
                row.getString("conversation"), row.getString("sender"), row.getString("message_id"), row.getString("text"),
                row.getString("thread_id"), row.getString("reply_to_id"),
                media == null ? List.of() : fromJson(media, new TypeReference<List<Media>>() {}),
                row.getLong("received_at"));
    }

    public static Reply replyFrom(ResultSet row) throws SQLException {
        return new Reply(row.getString("reply_id"), row.getLong("turn_id"), row.getString("session_key"),
                row.getString("channel"), row.getString("account"), row.getString("conversation"),
                row.getString("recipient"), row.getString("thread_id"), row.getString("text"),
                idsFrom(row.getString("in_reply_to")));
    }

    /** An {@code in_reply_to} column; empty for a row that is gone (null). */
    public static List<String> idsFrom(String column) {
        return column == null ? List.of() : fromJson(column, new TypeReference<List<String>>() {});
    }

    /** The {@code queue_directive} column: the settings in the config file's keys and spellings. */
    public static String directiveText(QueueOverride directive) {
        return json(QueueOverrideCodec.write(directive, JSON.createObjectNode()));
    }

    public static QueueOverride directiveFrom(String text) {
        try {
            return QueueOverrideCodec.read(JSON.readTree(text));
        } catch (JsonProcessingException e) {
            throw new JournalException("journal holds unreadable JSON: " + e.getOriginalMessage(), e);
        }
    }

    public static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("journal values always serialise", e);
        }
    }

    private static <T> T fromJson(String text, TypeReference<T> type) {
        try {
            return JSON.readValue(text, type);
        } catch (JsonProcessingException e) {
            throw new JournalException("journal holds unreadable JSON: " + e.getOriginalMessage(), e);
        }
    }
}
