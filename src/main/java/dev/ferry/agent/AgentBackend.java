package dev.ferry.agent;

/**
 * The seam to whatever produces replies. Implementations must not block the caller: {@link #start}
 * returns at once and the work happens elsewhere. Thread-safe; many turns may run at once.
 */
public interface AgentBackend extends AutoCloseable {

    /** A short name for logs and status, such as {@code echo}. */
    String name();

    AgentRun start(AgentRequest request);

    @Override
    default void close() {}
}
