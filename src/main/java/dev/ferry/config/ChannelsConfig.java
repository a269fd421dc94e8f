package dev.ferry.config;

/** The channel adapters and their settings. */
public record ChannelsConfig(WebhookConfig webhook, WebchatConfig webchat, TelegramConfig telegram) {
}
