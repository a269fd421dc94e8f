package dev.ferry.journal;

import java.util.List;

/**
 * Where a journal hands the unfinished work this gateway is to run (see {@link Journal#resume}). Called on
 * one of the journal's threads; it must queue the work and return, never run it.
 */
@FunctionalInterface
public interface Takeover {

    /**
     * {@code undelivered}: replies to send, oldest first. {@code openTurns}: turns to run again as they are,
     * so their reply ids do not change. {@code pending}: messages in no open turn, in journal order, to route.
     */
    void take(List<Reply> undelivered, List<Turn> openTurns, List<InboundMessage> pending);
}
