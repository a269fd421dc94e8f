package dev.ferry.config;

/** Session key granularity (SPEC 1); spelled {@code "conversation"}, {@code "sender"} or {@code "main"} in the file. */
public enum SessionScope { CONVERSATION, SENDER, MAIN }
