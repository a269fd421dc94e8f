/**
 * Delivery: sends replies from the outbox through their channel's {@link dev.ferry.delivery.ReplyTransport},
 * retrying with capped exponential backoff until the platform accepts. It receives replies the journal
 * has already committed, and tells the journal when each is delivered. Per session, replies go out in
 * the order their turns completed; it never drops a reply because sending failed.
 */
package dev.ferry.delivery;
