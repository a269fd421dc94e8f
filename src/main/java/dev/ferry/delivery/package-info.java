/**
 * Delivery: sends replies from the outbox through their channel's {@link dev.ferry.delivery.ReplyTransport},
 * a bounded number at once per channel, retrying with capped exponential backoff until the platform
 * accepts. It receives replies the journal has already committed, and tells the journal when each is
 * delivered, or failed because the platform refused it for good ({@link dev.ferry.delivery.SendOutcome}).
 * Per session, replies go out in the order their turns completed; it never drops a reply because sending
 * failed, and never lets a refused one hold back the session's next. Each reply committed, delivered or
 * refused is published as a gateway event; at a stop it waits a moment for the records of replies
 * already sent, and a record the stop cut off is sent again at the next start, never logged as a fault.
 */
package dev.ferry.delivery;
