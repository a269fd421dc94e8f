/**
 * The PostgreSQL journal engine: one database shared by several gateways behind
 * {@link dev.ferry.journal.Journal}. {@link dev.ferry.journal.postgres.PostgresJournal} connects and hands
 * each write to the shared {@link dev.ferry.journal.GroupCommitWriter}, whose transaction steps
 * {@code PostgresTransactions} supplies (and which replaces a broken connection); {@code PostgresWrites}
 * holds each write's statements, {@code PostgresReads} the reads, {@code PostgresSchema} the tables.
 * {@code SessionLeases} says which sessions this gateway runs and fences every turn write on its lease's
 * epoch; {@code Leadership} gives one gateway at a time a role such as a Telegram bot's poller;
 * {@code LeasePoller} is the engine's own thread, which renews, takes over what expired and hands it to the
 * gateway through {@link dev.ferry.journal.Takeover}. It never acknowledges a write before its commit, and
 * never commits a turn whose lease another gateway holds.
 */
package dev.ferry.journal.postgres;
