/**
 * Control: the one table of RPC methods (SPEC 3.4) that {@code POST /rpc} serves and the WebSocket will
 * serve, the JSON shapes of answers and refusals, configuration edits ({@code config.*}), and the build
 * check that start-up, reload and {@code ferry config validate} share. It reads the stages (journal,
 * turn scheduler, outbox) and asks for reloads through a function it is given; it never builds or
 * wires a stage, and nothing in the pipeline imports it.
 */
package dev.ferry.control;
