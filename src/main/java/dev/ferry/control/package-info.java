/**
 * Control: the one table of RPC methods (SPEC 3.4) that {@code POST /rpc} and the WebSocket serve, the
 * JSON shapes of answers and refusals, chat from the gateway's own clients ({@code chat.send} through
 * intake, {@code chat.history}), configuration edits ({@code config.*}), and the build check that
 * start-up, reload and {@code ferry config validate} share. It reads the stages (journal, turn scheduler,
 * outbox), hands chat messages to intake, and asks for reloads through a function it is given; it never builds or
 * wires a stage, and nothing in the pipeline imports it.
 */
package dev.ferry.control;
