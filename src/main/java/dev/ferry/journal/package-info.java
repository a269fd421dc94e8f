/**
 * Journal: the record of every accepted message, every turn and every reply, and the outbox.
 * It receives appends from intake, turn starts and completions from the turn scheduler, and delivery
 * marks from the outbox. It also defines the records that flow down the pipeline, since every stage
 * ends up writing them here. It never calls back into another stage; a completed future is the only
 * thing it hands on, and it completes an append only after the entry is committed.
 *
 * <p>This package holds what every engine shares: the {@link dev.ferry.journal.Journal} seam, the records,
 * the {@link dev.ferry.journal.GroupCommitWriter} (one writer thread, one transaction per batch, futures
 * completed after the commit), the reply-id policy ({@link dev.ferry.journal.ReplyIds}) and the stored
 * states ({@link dev.ferry.journal.MessageState}, {@link dev.ferry.journal.TurnState}). Each engine is a
 * subpackage: {@code journal.sqlite}, one file per gateway, and {@code journal.postgres}, one database shared
 * by several gateways (which hand each other work through {@link dev.ferry.journal.Takeover}). The in-memory
 * journal lives with the tests, which run one
 * contract suite against every engine.
 */
package dev.ferry.journal;
