package dev.ferry.journal;

import java.util.UUID;

/**
 * How a journal names its replies, for every engine. Each id carries the journal's instance id, so a new
 * journal never reuses an old one's ids (an idempotent receiver would drop the new reply as a repeat). A
 * turn's reply id derives from the turn, so the same turn run again after a crash answers with the same
 * id; a command's from the message it answers; a notice's is new every time.
 */
public record ReplyIds(String instanceId) {

    /** A new instance id: for a journal that has none yet. */
    public static ReplyIds fresh() {
        return new ReplyIds(UUID.randomUUID().toString().substring(0, 8));
    }

    /** The reply to turn {@code turnId}. */
    public String forTurn(long turnId) {
        return turnPrefix() + turnId;
    }

    /** What every turn's reply id starts with: {@link #forTurn} is this and the turn id. */
    public String turnPrefix() {
        return "fr-" + instanceId + "-";
    }

    /** The answer to a chat command, the message {@code seq}. */
    public String forCommand(long seq) {
        return "fr-" + instanceId + "-c" + seq;
    }

    /** A notice from Ferry itself: nothing derives it, so it is random, and never repeats. */
    public String forNotice() {
        return "fr-" + instanceId + "-n" + UUID.randomUUID().toString().substring(0, 13);
    }
}
