/**
 * Command line: {@code ferry gateway} runs a gateway; the other commands validate a configuration or
 * talk to a running gateway over its RPC endpoint, or, for {@code ferry send}, its WebSocket. Exit codes:
 * 0 success, 1 a refusal the operator can fix (invalid config, gateway unreachable), 2 wrong usage;
 * {@code ferry send} tells its failures apart (3 to 8, see {@code GatewayFailure.Kind}).
 */
package dev.ferry.cli;
