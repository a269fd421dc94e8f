package dev.ferry.agent;

/**
 * The seam to whatever produces replies. Implementations must not block the caller: {@link #start}
 * returns at once and the work happens elsewhere. Thread-safe; many turns may run at once.
 */
public interface AgentBackend extends AutoCloseable {

    /** A short name for logs and status, such as {@code echo}. */
    String name();

    AgentRun start(AgentRequest request);

    /**
     * Whether {@link AgentRequest#history} is read. A backend that never reads it spares every turn a journal
     * read, which was a third of the turn threads' time with the echo agent.
     */
    default boolean readsHistory() {
        return true;
    }

    @Override
    default void close() {}
}
