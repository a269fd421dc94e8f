package dev.ferry.config;

/** The two buffers of the pipeline: the inbound debouncer and the followup queue. */
public record MessagesConfig(InboundConfig inbound, QueueConfig queue) {
}
