package dev.ferry.intake;

import dev.ferry.journal.InboundMessage;

/** The stage after intake: receives each journaled, non-duplicate message once, in journal order per sender. */
@FunctionalInterface
public interface MessageSink {
    void accept(InboundMessage journaled);
}
