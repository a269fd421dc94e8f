/**
 * Time: the clock and scheduler every stage takes instead of reading the wall clock or sleeping.
 * Production uses {@link dev.ferry.time.SystemScheduler}; tests drive time by hand, so no test
 * waits for a timer to fire.
 */
package dev.ferry.time;
