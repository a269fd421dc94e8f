package dev.ferry.config;

/** Which engine holds the journal, how hard it commits, and how long finished records are kept. */
public record JournalConfig(JournalEngine engine, JournalSync sync, int retentionDays, PostgresConfig postgres) {

    /** An SQLite journal, the default engine. */
    public JournalConfig(JournalSync sync, int retentionDays) {
        this(JournalEngine.SQLITE, sync, retentionDays, PostgresConfig.DEFAULTS);
    }
}
