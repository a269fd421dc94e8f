package dev.ferry.config;

import java.util.Collection;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * The channel names a configuration may use as keys of {@code messages.inbound.byChannel} and
 * {@code messages.queue.byChannel}: the names the gateway's channel registry knows. Configuration is the
 * base package and imports no channel, so whoever loads a configuration hands the names in;
 * {@link #registered()} asks the registry on the class path for them, through {@link ServiceLoader}.
 * Immutable; sorted, as an unknown-channel error lists them.
 */
public record ChannelNames(List<String> names) {

    public ChannelNames {
        names = List.copyOf(new TreeSet<>(names));
    }

    public static ChannelNames of(String... names) {
        return new ChannelNames(List.of(names));
    }

    /** The names of the channel registry on the class path; the same for the life of the process. */
    public static ChannelNames registered() {
        return Registered.NAMES;
    }

    public boolean contains(String name) {
        return names.contains(name);
    }

    /** {@code control, telegram, webchat, webhook}: how an error lists what was expected. */
    public String listed() {
        return String.join(", ", names);
    }

    /**
     * Implemented where the channels are registered and named in
     * {@code META-INF/services/dev.ferry.config.ChannelNames$Source}, so that {@link #registered()} finds it.
     */
    public interface Source {
        Collection<String> channelNames();
    }

    /** Looked up once, on first use: a configuration that names no channel never pays for the lookup. */
    private static final class Registered {
        static final ChannelNames NAMES = lookUp();

        private static ChannelNames lookUp() {
            List<Source> sources = ServiceLoader.load(Source.class, ChannelNames.class.getClassLoader()).stream()
                    .map(ServiceLoader.Provider::get).toList();
            if (sources.size() != 1) {
                throw new IllegalStateException("expected one channel registry on the class path ("
                        + Source.class.getName() + "), found " + sources.size());
            }
            return new ChannelNames(List.copyOf(sources.get(0).channelNames()));
        }
    }
}
