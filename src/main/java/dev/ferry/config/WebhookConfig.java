package dev.ferry.config;

/**
 * The webhook channel. {@code token} is never null ({@link Secret#NONE} when unset); {@code replyUrl} is
 * null when replies stay in the session history; at most {@code maxConcurrentSends} replies are on their
 * way to it at once.
 */
public record WebhookConfig(boolean enabled, Secret token, String replyUrl, int maxConcurrentSends) {

    public static final int DEFAULT_MAX_CONCURRENT_SENDS = 16;

    public WebhookConfig {
        token = token == null ? Secret.NONE : token;
    }
}
