package dev.ferry.channel.webhook;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.intake.Identifiers;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Media;

/**
 * Reads the webhook's JSON body into an inbound message, or explains every field that is wrong.
 * Fields Ferry does not know are ignored, so senders may include their own.
 */
final class WebhookPayload {

    static final String CHANNEL = "webhook";
    static final String ACCOUNT = "default";

    /** Either a message or the reasons there is none. */
    record Parsed(InboundMessage message, List<String> errors) {}

    private WebhookPayload() {}

    static Parsed parse(JsonNode body, long receivedAtEpochMs) {
        List<String> errors = new ArrayList<>();
        if (body == null || !body.isObject()) {
            return new Parsed(null, List.of("body: must be a JSON object"));
        }
        String messageId = identifier(body, "messageId", true, errors);
        String conversation = identifier(body, "conversation", true, errors);
        String sender = identifier(body, "sender", true, errors);
        String threadId = identifier(body, "threadId", false, errors);
        String text = text(body, errors);
        List<Media> media = media(body.get("media"), errors);
        if (text != null && text.isEmpty() && media.isEmpty() && errors.isEmpty()) {
            errors.add("text: must not be empty unless media is given");
        }
        if (!errors.isEmpty()) {
            return new Parsed(null, List.copyOf(errors));
        }
        var message = new InboundMessage(0, CHANNEL, ACCOUNT, conversation, sender, messageId, text, threadId,
                null, media, receivedAtEpochMs);
        return new Parsed(message, List.of());
    }

    /** Platforms use both string and numeric ids; both are kept as their text. */
    private static String identifier(JsonNode body, String field, boolean required, List<String> errors) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            if (required) {
                errors.add(field + ": required");
            }
            return null;
        }
        if (!(node.isTextual() || node.isIntegralNumber())) {
            errors.add(field + ": must be a string or an integer, got " + typeName(node));
            return null;
        }
        String value = node.asText().trim();
        String problem = Identifiers.problem(value);
        if (problem != null) {
            errors.add(field + ": " + problem);
        }
        return value;
    }

    private static String text(JsonNode body, List<String> errors) {
        JsonNode node = body.get("text");
        if (node == null || node.isNull()) {
            return "";
        }
        if (!node.isTextual()) {
            errors.add("text: must be a string, got " + typeName(node));
            return null;
        }
        return node.asText();
    }

    private static List<Media> media(JsonNode node, List<String> errors) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            errors.add("media: must be a list, got " + typeName(node));
            return List.of();
        }
        List<Media> media = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            String path = "media[" + i + "]";
            if (!item.isObject()) {
                errors.add(path + ": must be an object with url and mimeType, got " + typeName(item));
                continue;
            }
            JsonNode url = item.get("url");
            JsonNode mimeType = item.get("mimeType");
            if (url == null || !url.isTextual() || url.asText().isBlank()) {
                errors.add(path + ".url: required string");
            }
            if (mimeType != null && !mimeType.isNull() && !mimeType.isTextual()) {
                errors.add(path + ".mimeType: must be a string, got " + typeName(mimeType));
            }
            if (url != null && url.isTextual()) {
                media.add(new Media(url.asText(), mimeType == null || mimeType.isNull() ? null : mimeType.asText()));
            }
        }
        return media;
    }

    private static String typeName(JsonNode node) {
        return switch (node.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "a list";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> node.getNodeType().name().toLowerCase();
        };
    }
}
