package dev.ferry.journal;

import java.util.Objects;

/**
 * Where a polling channel's intake stands on its platform: for Telegram the next {@code getUpdates}
 * offset. It is stored with the messages it follows, in one commit, so a restart resumes exactly where
 * the last commit left off: nothing committed is fetched as new, nothing fetched is skipped uncommitted.
 *
 * @param position the platform's own position token, opaque to the journal
 */
public record ChannelCursor(String channel, String account, String position) {

    public ChannelCursor {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(account, "account");
        Objects.requireNonNull(position, "position");
    }
}
