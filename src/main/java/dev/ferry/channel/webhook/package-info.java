/**
 * The webhook channel: {@code POST /channels/webhook/inbound} in (authorise, parse, journal, answer
 * {@code 202} once committed), {@code POST} to {@code channels.webhook.replyUrl} out, with the reply id as
 * {@code Idempotency-Key}. It receives HTTP requests and hands messages to intake; it hands replies to the
 * receiver. A malformed or unauthorised request is refused with a JSON reason before the journal is
 * touched, and changes nothing; it never answers {@code 202} before the journal commit.
 */
package dev.ferry.channel.webhook;
