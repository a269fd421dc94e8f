package dev.ferry.journal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import dev.ferry.config.QueueOverride;

/**
 * A journal whose {@code /queue} saves wait until the test commits them, in the order they were made:
 * what a caller sees while a save is still on its way to the disk. Everything else goes straight through.
 * Not thread-safe.
 */
public final class HeldDirectiveSaves extends ForwardingJournal {

    private final List<QueueOverride> saved = new ArrayList<>();
    private final List<CompletableFuture<Void>> held = new ArrayList<>();

    public HeldDirectiveSaves(Journal delegate) {
        super(delegate);
    }

    @Override
    public CompletableFuture<Void> saveQueueDirective(String sessionKey, QueueOverride directive) {
        saved.add(directive);
        CompletableFuture<Void> commit = new CompletableFuture<>();
        held.add(commit);
        return commit.thenCompose(ignored -> super.saveQueueDirective(sessionKey, directive));
    }

    /** The settings handed to saves so far, committed or not, in order. */
    public List<QueueOverride> saved() {
        return List.copyOf(saved);
    }

    /** Lets every held save reach the journal, in the order made. */
    public void commitAll() {
        held.forEach(commit -> commit.complete(null));
        held.clear();
    }
}
