package dev.ferry.queue;

import java.util.List;

import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.Turn;

/**
 * What a session's next turn is made of: its messages and prompt, or a turn the journal already holds
 * from before a restart ({@code replayed}, else null), which runs again as it is.
 */
record TurnInput(List<InboundMessage> messages, String prompt, Turn replayed) {

    TurnInput {
        messages = List.copyOf(messages);
    }
}
