/**
 * Gateway: owns one running Ferry. {@link dev.ferry.gateway.Stages} builds every stage from the
 * configuration and wires them in pipeline order; {@link dev.ferry.gateway.Gateway} runs the life
 * cycle around them: start (replay, then the listener), reload (prepared with no visible effect, then
 * committed whole or discarded whole, sequenced by {@link dev.ferry.gateway.ReloadSequencer}) and
 * stop. It serves HTTP (health, metrics, the control table, the channel endpoints it finds by path)
 * and names no channel and no RPC method: those come from the channel catalog and the control table.
 * It is the only package that builds every other; no stage knows the gateway.
 */
package dev.ferry.gateway;
