/**
 * Channels (the adapters of the intake stage, SPEC 2): each {@link dev.ferry.channel.Channel} receives a
 * platform's events (an HTTP endpoint, a poller, a socket), hands each message to
 * {@link dev.ferry.intake.Intake}, and sends its conversations' replies through its
 * {@link dev.ferry.delivery.ReplyTransport}. {@link dev.ferry.channel.Channels} owns them with their
 * inbound debouncers, hands each journaled message on to its channel's debouncer, and applies a new
 * configuration to all of them at once or not at all. {@link dev.ferry.channel.ChannelCatalog} is the one
 * list of channel names; {@link dev.ferry.channel.ClientChannel} is the channel of the gateway's own
 * clients ({@code control}, {@code webchat}), whose messages come through {@code chat.send}. A plug-in is a
 * subpackage ({@code channel.webhook}, {@code channel.webchat}). A channel never
 * acknowledges a message before intake says it is committed, and never refuses a well-formed,
 * authorised message because the gateway is busy or reloading.
 */
package dev.ferry.channel;
