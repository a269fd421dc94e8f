/**
 * Journal: the record of every accepted message, every turn and every reply, and the outbox.
 * It receives appends from intake, turn starts and completions from the turn scheduler, and delivery
 * marks from the outbox. It also defines the records that flow down the pipeline, since every stage
 * ends up writing them here. It never calls back into another stage; a completed future is the only
 * thing it hands on, and it completes an append only after the entry is committed.
 */
package dev.ferry.journal;
