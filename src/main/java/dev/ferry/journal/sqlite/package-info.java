/**
 * The SQLite journal engine: one file in WAL mode behind {@link dev.ferry.journal.Journal}.
 * {@link dev.ferry.journal.sqlite.SqliteJournal} opens the file and hands each write to the shared
 * {@link dev.ferry.journal.GroupCommitWriter}, whose transaction steps {@code SqliteTransactions} supplies
 * (BEGIN, COMMIT, ROLLBACK, the dedupe index, the file-identity check). {@code SqliteWrites} holds each
 * write's statements, {@code SqliteReads} the reads on a connection of their own, {@code SqliteSchema}
 * the tables. It never acknowledges a write before its commit, and never replaces or resets a file it
 * cannot read.
 */
package dev.ferry.journal.sqlite;
