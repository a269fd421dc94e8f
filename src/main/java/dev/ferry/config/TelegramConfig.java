package dev.ferry.config;

import java.util.List;

/**
 * The Telegram channel. {@code botToken} is never null ({@link Secret#NONE} when unset, in which case the
 * adapter reads {@code botTokenEnv}); {@code allowFrom} is immutable and never null.
 */
public record TelegramConfig(boolean enabled, Secret botToken, String botTokenEnv, String apiBaseUrl,
                             int pollTimeoutS, List<String> allowFrom, boolean requireMention) {

    public TelegramConfig {
        botToken = botToken == null ? Secret.NONE : botToken;
        allowFrom = allowFrom == null ? List.of() : List.copyOf(allowFrom);
    }
}
