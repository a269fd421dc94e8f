package dev.ferry.control;

import java.util.List;

/**
 * What one reload did: {@code applied} with the new generation, or refused with the configuration's
 * errors (the gateway then runs on as it was).
 */
public record ReloadOutcome(boolean applied, long generation, List<String> errors) {

    public ReloadOutcome {
        errors = List.copyOf(errors);
    }
}
