package dev.ferry.agent;

/**
 * What a backend tells about a turn while it runs: its reply text as it is produced. Called on the
 * backend's threads, in order; it must not block. The reply itself is still the run's result: what a
 * turn observer saw is only a preview, and nothing of a cancelled turn is delivered.
 */
@FunctionalInterface
public interface TurnObserver {

    /** Hears nothing: what a request carries unless someone listens. */
    TurnObserver NONE = text -> {};

    /** The next piece of the reply text, following the pieces before it. */
    void onText(String delta);

    /**
     * The pieces so far are void and the reply starts over: a steered message restarted the model call,
     * and its partial answer was thrown away.
     */
    default void onRestart() {}
}
