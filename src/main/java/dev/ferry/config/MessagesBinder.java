package dev.ferry.config;

import static dev.ferry.config.ConfigReader.UNBOUNDED;
import static dev.ferry.config.ConfigReader.UNBOUNDED_INT;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Binds {@code messages}: the inbound debouncer and the followup queue, each with per-channel overrides whose
 * keys must name a channel the gateway registers. Defaults and ranges are written beside each key. Not
 * thread-safe.
 */
final class MessagesBinder {

    private static final List<String> QUEUE_MODES =
            Arrays.stream(QueueMode.values()).map(QueueMode::configName).toList();
    private static final List<String> DROP_POLICIES =
            Arrays.stream(DropPolicy.values()).map(DropPolicy::configName).toList();

    /** The names a by-channel key may take. */
    private final ChannelNames channels;

    MessagesBinder(ChannelNames channels) {
        this.channels = channels;
    }

    MessagesConfig messages(ConfigReader r) {
        return new MessagesConfig(inbound(r.object("inbound")), queue(r.object("queue")));
    }

    private InboundConfig inbound(ConfigReader r) {
        long debounceMs = r.longValue("debounceMs", 0, 0, UNBOUNDED);
        long maxWaitMs = r.longValue("maxWaitMs", 0, 0, UNBOUNDED);
        int maxBatch = r.intValue("maxBatch", 50, 1, UNBOUNDED_INT);
        int maxTrackedKeys = r.intValue("maxTrackedKeys", 2048, 1, UNBOUNDED_INT);
        ConfigReader byChannelReader = r.object("byChannel");
        Map<String, Long> byChannel = new LinkedHashMap<>();
        for (String channel : knownChannels(byChannelReader)) {
            Long ms = byChannelReader.longOrNull(channel, 0, UNBOUNDED);
            if (ms != null) {
                byChannel.put(channel, ms);
            }
        }
        return new InboundConfig(debounceMs, maxWaitMs, maxBatch, maxTrackedKeys, byChannel);
    }

    private QueueConfig queue(ConfigReader r) {
        QueueMode mode = r.choice("mode", QueueMode.COLLECT, QueueMode::parse, QUEUE_MODES);
        long debounceMs = r.longValue("debounceMs", 1000, 0, UNBOUNDED);
        // 0: five debounce windows, as for the inbound debouncer; a steady stream still drains then.
        long maxWaitMs = r.longValue("maxWaitMs", 0, 0, UNBOUNDED);
        int cap = r.intValue("cap", 20, 1, UNBOUNDED_INT);
        DropPolicy drop = r.choice("drop", DropPolicy.SUMMARIZE, DropPolicy::parse, DROP_POLICIES);
        boolean notifyDrops = r.bool("notifyDrops", true);
        ConfigReader byChannelReader = r.object("byChannel");
        Map<String, QueueOverride> byChannel = new LinkedHashMap<>();
        for (String channel : knownChannels(byChannelReader)) {
            QueueOverride override = queueOverride(byChannelReader.object(channel));
            // An override that sets nothing is no override; dropping it keeps equal configs equal.
            if (!override.isEmpty()) {
                byChannel.put(channel, override);
            }
        }
        return new QueueConfig(mode, debounceMs, maxWaitMs, cap, drop, notifyDrops, byChannel);
    }

    private QueueOverride queueOverride(ConfigReader r) {
        return new QueueOverride(
                r.choiceOrNull("mode", QueueMode::parse, QUEUE_MODES),
                r.longOrNull("debounceMs", 0, UNBOUNDED),
                r.intOrNull("cap", 1, UNBOUNDED_INT),
                r.choiceOrNull("drop", DropPolicy::parse, DROP_POLICIES),
                r.longOrNull("maxWaitMs", 0, UNBOUNDED));
    }

    /** The keys of a by-channel map that name a channel; each other key is reported. */
    private List<String> knownChannels(ConfigReader byChannel) {
        List<String> known = new ArrayList<>();
        for (String key : byChannel.keys()) {
            if (channels.contains(key)) {
                known.add(key);
            } else {
                byChannel.error(key, "unknown channel (expected one of " + channels.listed() + ")");
            }
        }
        return known;
    }
}
