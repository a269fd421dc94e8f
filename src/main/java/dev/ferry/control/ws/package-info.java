/**
 * The WebSocket control protocol ({@code GET /ws}, SPEC 3.5): request, response and event frames over
 * the same table of RPC methods as {@code POST /rpc}, one {@code ControlClient} per connection with its
 * auth state, the conversations it follows, its event subscription and bounded send buffer; the
 * {@code chat}, {@code queue} and {@code status} events; pings and the reaping of silent peers; and the
 * origin rule for browser pages. It
 * reads the event hub and calls the method table it is given; it never builds a stage, and nothing in
 * the pipeline imports it.
 */
package dev.ferry.control.ws;
