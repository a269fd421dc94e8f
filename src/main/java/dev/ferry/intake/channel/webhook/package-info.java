/**
 * The webhook channel: {@code POST /channels/webhook/inbound} in, {@code POST} to
 * {@code channels.webhook.replyUrl} out, with the reply id as {@code Idempotency-Key}. A malformed or
 * unauthorised request is refused with a JSON reason and changes nothing.
 */
package dev.ferry.intake.channel.webhook;
