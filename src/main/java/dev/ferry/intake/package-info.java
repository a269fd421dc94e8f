/**
 * Intake: turns a platform event into an {@link dev.ferry.journal.InboundMessage}, appends it to the
 * journal, and only once the append is committed acknowledges it to the platform and hands it on to
 * the {@link dev.ferry.intake.MessageSink} (the channel's debouncer). The channel adapters that call it
 * live in {@code dev.ferry.channel}. Intake never acknowledges a message before its journal commit, and never
 * refuses a well-formed, authorised message because the gateway is busy or reloading.
 */
package dev.ferry.intake;
