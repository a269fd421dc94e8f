/**
 * Gateway: owns one running Ferry. It builds every stage from the configuration and wires them in
 * pipeline order, serves HTTP (health, metrics, RPC, channel endpoints) and runs the start-up replay.
 * It is the only package that knows every other; no stage knows the gateway.
 */
package dev.ferry.gateway;
