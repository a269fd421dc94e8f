package dev.ferry.channel;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a channel that runs something of its own (a poller) is doing, as {@code status} shows it under
 * {@code channels.<name>}: its {@code state} in a word, the operator's {@code problem} in a sentence or
 * null while there is none, and facts and counts of its own, in the order given. Never a secret. Immutable.
 */
public record ChannelStatus(String state, String problem, Map<String, Object> details) {

    public ChannelStatus {
        details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }
}
