package dev.ferry.channel;

import java.util.Collection;

import dev.ferry.config.ChannelNames;

/**
 * Hands configuration validation the names of {@link ChannelCatalog#BUILT_IN}. Configuration is the base
 * package and cannot import this one, so {@link ChannelNames#registered()} finds this class through
 * {@code META-INF/services}. Stateless.
 */
public final class RegisteredChannelNames implements ChannelNames.Source {

    @Override
    public Collection<String> channelNames() {
        return ChannelCatalog.BUILT_IN.names();
    }
}
