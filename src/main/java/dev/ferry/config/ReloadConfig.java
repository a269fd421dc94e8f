package dev.ferry.config;

/** Budgets of the reload sequence (SPEC 3.3 steps 3 and 5), in milliseconds. */
public record ReloadConfig(long drainTimeoutMs, long deferralTimeoutMs) {
}
