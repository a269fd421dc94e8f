package dev.ferry.config;

/** Where the journal lives: one SQLite file per gateway (the default), or one PostgreSQL shared by several gateways. */
public enum JournalEngine { SQLITE, POSTGRES }
