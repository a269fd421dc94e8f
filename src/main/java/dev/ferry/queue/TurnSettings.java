package dev.ferry.queue;

/** The agent settings a turn needs: how many may run at once, and what each sends besides the prompt. */
public record TurnSettings(int maxConcurrent, String systemPrompt, int historyTurns) {

    public TurnSettings {
        if (maxConcurrent < 1) {
            throw new IllegalArgumentException("maxConcurrent must be >= 1, got " + maxConcurrent);
        }
    }
}
