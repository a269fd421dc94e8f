package dev.ferry.control;

import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import dev.ferry.channel.ChannelStatus;

/**
 * What the control surface reads of the running gateway, fresh on every call, since a reload changes it.
 *
 * @param state the gateway's life-cycle state as status spells it ({@code running}, {@code draining}, ...)
 * @param agent the current backend's name
 * @param bufferedDebounceKeys debounce keys holding messages in any channel's debouncer
 * @param channels how each channel that runs something of its own (a poller) is doing, by name
 */
public record LiveState(LongSupplier generation, Supplier<String> state, Supplier<String> agent,
                        IntSupplier bufferedDebounceKeys, Supplier<Map<String, ChannelStatus>> channels) {}
