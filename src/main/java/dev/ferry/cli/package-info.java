/**
 * Command line: {@code ferry gateway} runs a gateway; the other commands validate a configuration or
 * talk to a running gateway over its RPC endpoint. Exit codes: 0 success, 1 a refusal the operator can
 * fix (invalid config, gateway unreachable), 2 wrong usage.
 */
package dev.ferry.cli;
