package dev.ferry.gateway;

/**
 * A reload made ready with no visible effect: the new listener bound but not serving, the new backend
 * built but not used, every channel's change prepared. {@link #commit} swaps all of it in and cannot
 * fail; {@link #discard} closes what was prepared and leaves the running generation untouched. Exactly
 * one of the two is called, once, on the reload thread.
 */
interface PreparedReload {

    /** Puts everything prepared in service and retires what it replaces. */
    void commit();

    /** Closes everything prepared; nothing of the running generation changes. */
    void discard();
}
