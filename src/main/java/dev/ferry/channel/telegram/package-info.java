/**
 * The Telegram channel (SPEC 3.5) on the Bot API: {@link dev.ferry.channel.telegram.UpdatePoller} long-polls
 * {@code getUpdates} and journals each batch with its offset, {@link dev.ferry.channel.telegram.UpdateReader}
 * turns an update into a message (or says why it is ignored), {@link dev.ferry.channel.telegram.TelegramReplies}
 * sends replies with {@code sendMessage}, and {@link dev.ferry.channel.telegram.BotApi} makes the calls,
 * keeping the bot token, which every Bot API URL carries, out of every message it gives.
 */
package dev.ferry.channel.telegram;
