/**
 * Intake: the one door into the pipeline for every channel. It receives the
 * {@link dev.ferry.journal.InboundMessage} a channel adapter ({@code dev.ferry.channel}) made of a
 * platform event, appends it to the journal, and only once the append is committed lets the channel
 * acknowledge it and hands it on to the {@link dev.ferry.intake.MessageSink} (the channels, which pass it
 * to its channel's debouncer). Intake never acknowledges a message before its journal commit, and never
 * refuses a well-formed, authorised message because the gateway is busy or reloading.
 */
package dev.ferry.intake;
