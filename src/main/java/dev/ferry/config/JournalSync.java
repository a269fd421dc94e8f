package dev.ferry.config;

/** Journal durability; spelled {@code "full"} or {@code "normal"} in the file. */
public enum JournalSync { FULL, NORMAL }
