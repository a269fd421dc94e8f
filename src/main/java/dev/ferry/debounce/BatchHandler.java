package dev.ferry.debounce;

/**
 * The stage after the debouncer. A handler that throws has not taken the batch: the debouncer tries
 * the same batch again later, and holds back the key's later batches until it succeeds.
 */
@FunctionalInterface
public interface BatchHandler {
    void deliver(InboundBatch batch) throws Exception;
}
