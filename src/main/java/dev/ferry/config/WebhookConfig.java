package dev.ferry.config;

/**
 * The webhook channel. {@code token} is never null ({@link Secret#NONE} when unset); {@code replyUrl} is
 * null when replies stay in the session history.
 */
public record WebhookConfig(boolean enabled, Secret token, String replyUrl) {

    public WebhookConfig {
        token = token == null ? Secret.NONE : token;
    }
}
