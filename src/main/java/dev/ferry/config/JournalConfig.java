package dev.ferry.config;

/** How hard the journal commits, and how long finished records are kept. */
public record JournalConfig(JournalSync sync, int retentionDays) {
}
