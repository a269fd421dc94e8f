package dev.ferry.channel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.config.FerryConfig;
import dev.ferry.debounce.BatchHandler;
import dev.ferry.debounce.DebounceSettings;
import dev.ferry.debounce.DebouncerRegistry;
import dev.ferry.debounce.FlushReason;
import dev.ferry.debounce.FlushReport;
import dev.ferry.debounce.InboundBatch;
import dev.ferry.debounce.InboundDebouncer;
import dev.ferry.delivery.Outbox;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.intake.MessageSink;
import dev.ferry.journal.InboundMessage;
import dev.ferry.session.ChatCommands;

/**
 * The gateway's channels, each with its inbound debouncer and its transport in the outbox: the one place
 * that knows which channels run. A configuration reaches them all-or-nothing: {@link #prepare} prepares
 * every channel's change and every debouncer's settings without visible effect, and the
 * {@link Prepared} change it returns either swaps all of it in or drops all of it.
 *
 * <p>Life cycle: {@link #start} makes and starts each adapter of the catalog; the first
 * {@code prepare(config).commit()} configures them, and each reload does the same again; {@link #close}
 * stops them and flushes their debouncers. A channel that is enabled has a debouncer (registered in the
 * gateway's {@link DebouncerRegistry}), serves its endpoint and sends through its transport; a disabled
 * one has none of them, and its endpoint's path is answered {@code 404 CHANNEL_DISABLED}.
 *
 * <p>Thread-safe. The life cycle (start, prepare, commit, discard, close) is guarded by {@code lock} and
 * comes from one thread at a time (start-up, then the reload thread). The hot path, {@link #accept} and
 * {@link #endpointAt}, takes no lock: it reads a concurrent map and an immutable map in a volatile field.
 */
public final class Channels implements MessageSink, EndpointLookup, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Channels.class);

    private final ChannelCatalog catalog;
    private final BatchHandler toSessions;
    private final DebouncerRegistry registry;
    private final Outbox outbox;

    private final Object lock = new Object();
    @GuardedBy("lock")
    private ChannelContext context;
    /** Every running channel by name, in catalog order. */
    @GuardedBy("lock")
    private Map<String, Channel> channels = Map.of();
    /** {@code channels} as last written, for readers that must not wait on a reload: status. */
    private volatile Map<String, Channel> published = Map.of();
    /** The names of the channels the last commit enabled. */
    @GuardedBy("lock")
    private Set<String> enabled = Set.of();
    /** Whether a change was ever committed: only later ones are reloads worth a log line. */
    @GuardedBy("lock")
    private boolean configured;
    /** The change prepared and not yet committed or discarded; one at a time. */
    @GuardedBy("lock")
    private Prepared pending;
    @GuardedBy("lock")
    private boolean closed;
    /** The debouncer of each enabled channel; written under {@code lock}, read by intake's threads. */
    private final Map<String, InboundDebouncer> debouncers = new ConcurrentHashMap<>();
    /** Each channel endpoint by its path, with whether its channel is enabled; replaced whole under {@code lock}. */
    private volatile Map<String, Mounted> mounts = Map.of();
    /** The pages of the enabled channels; replaced whole under {@code lock}. */
    private volatile List<ChannelPages> pages = List.of();

    /**
     * @param toSessions the stage after the debouncers: session routing
     * @param registry the gateway's debouncer registry, which every debouncer made here joins
     * @param outbox where each channel's transport is installed
     */
    public Channels(ChannelCatalog catalog, BatchHandler toSessions, DebouncerRegistry registry, Outbox outbox) {
        this.catalog = catalog;
        this.toSessions = toSessions;
        this.registry = registry;
        this.outbox = outbox;
    }

    /** Makes each adapter of the catalog and starts it with {@code context}; none serves until the first commit. */
    public void start(ChannelContext context) {
        synchronized (lock) {
            if (this.context != null || closed) {
                throw new IllegalStateException("channels already started");
            }
            Map<String, Channel> made = new LinkedHashMap<>();
            for (ChannelCatalog.Entry entry : catalog.adapters()) {
                Channel channel = entry.factory().orElseThrow().get();
                if (!channel.name().equals(entry.name())) {
                    throw new IllegalStateException("channel " + entry.name() + " made one named " + channel.name());
                }
                channel.start(context);
                made.put(channel.name(), channel);
            }
            this.context = context;
            this.channels = made;
            this.published = made;
            this.mounts = mountsOf(made, Set.of());
        }
    }

    /** The names of the running channels, in catalog order. */
    public List<String> names() {
        synchronized (lock) {
            return List.copyOf(channels.keySet());
        }
    }

    /**
     * Prepares what {@code next} changes for every channel and its debouncer, with no visible effect. If
     * any channel fails to prepare, what the others prepared is discarded and the failure is thrown; the
     * channels run on as before. Until the returned change is committed or discarded, no other can be
     * prepared.
     */
    public Prepared prepare(FerryConfig next) {
        synchronized (lock) {
            if (context == null || closed) {
                throw new IllegalStateException("channels are " + (closed ? "closed" : "not started"));
            }
            if (pending != null) {
                throw new IllegalStateException("a prepared channel change is neither committed nor discarded");
            }
            List<Step> steps = new ArrayList<>();
            try {
                for (Channel channel : channels.values()) {
                    steps.add(prepareOne(channel, next));
                }
            } catch (RuntimeException e) {
                steps.forEach(Step::discard);
                throw e;
            }
            pending = new Prepared(steps);
            return pending;
        }
    }

    @GuardedBy("lock")
    private Step prepareOne(Channel channel, FerryConfig next) {
        boolean enabledNext = channel.enabledIn(next);
        DebounceSettings settings = enabledNext
                ? DebounceSettings.forChannel(next.messages().inbound(), channel.name()) : null;
        ChannelChange change = channel.prepare(next);
        if (change.kind() != ChannelChange.Kind.REBUILD) {
            return new Step(channel, null, change, enabledNext, settings);
        }
        Channel replacement = catalog.factoryOf(channel.name()).orElseThrow().get();
        try {
            replacement.start(context);
            ChannelChange fresh = replacement.prepare(next);
            if (fresh.kind() == ChannelChange.Kind.REBUILD) {
                throw new IllegalStateException("channel " + channel.name() + ": a new instance asked for a rebuild");
            }
            return new Step(channel, replacement, fresh, enabledNext, settings);
        } catch (RuntimeException e) {
            replacement.close();
            throw e;
        }
    }

    /**
     * Swaps a prepared change in. Debouncers are made before their channel's endpoint opens, and closed
     * (flushing what they hold) after it has closed, so no message of an enabled channel skips its window.
     */
    @GuardedBy("lock")
    private List<InboundDebouncer> apply(List<Step> steps) {
        for (Step step : steps) {
            if (step.enabled()) {
                InboundDebouncer debouncer = debouncers.get(step.name());
                if (debouncer == null) {
                    debouncers.put(step.name(), new InboundDebouncer(step.name(), step.settings(), Channels::goesAtOnce,
                            toSessions, context.scheduler(), RetryPolicy.DEFAULT, registry, context.metrics()));
                } else {
                    debouncer.useSettings(step.settings());
                }
            }
        }
        Map<String, Channel> running = new LinkedHashMap<>();
        for (Step step : steps) {
            if (step.replacement() != null) {
                step.current().close();
            }
            step.change().commit();
            running.put(step.name(), step.after());
        }
        channels = running;
        published = running;
        Set<String> nowEnabled = new LinkedHashSet<>();
        for (Step step : steps) {
            boolean wasEnabled = enabled.contains(step.name());
            if (step.enabled()) {
                nowEnabled.add(step.name());
            }
            if (step.change().kind() != ChannelChange.Kind.UNCHANGED || wasEnabled != step.enabled()) {
                Channel channel = step.after();
                outbox.useTransport(step.name(), step.enabled() ? channel.replyTransport().orElse(null) : null,
                        channel.maxConcurrentSends());
            }
            if (configured && wasEnabled != step.enabled()) {
                log.info("channel {} channel={}", step.enabled() ? "enabled" : "disabled", step.name());
            }
        }
        enabled = Set.copyOf(nowEnabled);
        mounts = mountsOf(running, enabled);
        pages = running.values().stream().filter(channel -> nowEnabled.contains(channel.name()))
                .flatMap(channel -> channel.pages().stream()).toList();
        configured = true;
        List<InboundDebouncer> closing = new ArrayList<>();
        for (Step step : steps) {
            if (!step.enabled()) {
                InboundDebouncer debouncer = debouncers.remove(step.name());
                if (debouncer != null) {
                    closing.add(debouncer);
                }
            }
        }
        return closing;
    }

    /** The debouncers' bypass rule: a chat command is never merged into a batch, nor kept waiting. */
    static boolean goesAtOnce(InboundMessage message) {
        return ChatCommands.isCommand(message.text());
    }

    private static Map<String, Mounted> mountsOf(Map<String, Channel> channels, Set<String> enabled) {
        Map<String, Mounted> byPath = new LinkedHashMap<>();
        for (Channel channel : channels.values()) {
            channel.endpoint().ifPresent(endpoint -> {
                Mounted clash = byPath.put(endpoint.path(),
                        new Mounted(channel.name(), endpoint, enabled.contains(channel.name())));
                if (clash != null) {
                    throw new IllegalStateException("channels " + clash.channel() + " and " + channel.name()
                            + " both serve " + endpoint.path());
                }
            });
        }
        return Map.copyOf(byPath);
    }

    @Override
    public Optional<Mounted> endpointAt(String path) {
        return Optional.ofNullable(mounts.get(path));
    }

    /** The file an enabled channel serves at {@code path}, such as the web chat page at {@code /}. */
    public Optional<ChannelPages.Page> pageAt(String path) {
        for (ChannelPages served : pages) {
            Optional<ChannelPages.Page> page = served.at(path);
            if (page.isPresent()) {
                return page;
            }
        }
        return Optional.empty();
    }

    /**
     * Hands a journaled message to its channel's debouncer; a message whose channel was disabled after it
     * was journaled, or that came by a name without an adapter, still goes on, alone.
     */
    @Override
    public void accept(InboundMessage journaled) {
        InboundDebouncer debouncer = debouncers.get(journaled.channel());
        if (debouncer != null) {
            debouncer.submit(journaled);
            return;
        }
        try {
            toSessions.deliver(new InboundBatch(InboundDebouncer.debounceKey(journaled), List.of(journaled),
                    FlushReason.IMMEDIATE));
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("could not hand on seq=" + journaled.seq(), e);
        }
    }

    /** How each channel that reports a status is doing, by name, in catalog order; read without waiting on a reload. */
    public Map<String, ChannelStatus> statuses() {
        Map<String, ChannelStatus> statuses = new LinkedHashMap<>();
        published.forEach((name, channel) -> channel.status().ifPresent(status -> statuses.put(name, status)));
        return statuses;
    }

    /** Debounce keys buffered across every channel's debouncer. */
    public int bufferedKeys() {
        return debouncers.values().stream().mapToInt(InboundDebouncer::bufferedKeys).sum();
    }

    /** Flushes every debouncer of the registry (SPEC 3.1); the first step of a reload or a stop. */
    public FlushReport flushAllInboundDebouncers(Duration timeout) throws InterruptedException {
        return registry.flushAllInboundDebouncers(timeout);
    }

    /**
     * Stops every channel, then closes the debouncers, which hand on what they hold and let later
     * messages pass straight through. A change still prepared is discarded. Idempotent.
     */
    @Override
    public void close() {
        List<Channel> stopping;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (pending != null) {
                pending.steps.forEach(Step::discard);
                pending = null;
            }
            stopping = List.copyOf(channels.values());
        }
        for (Channel channel : stopping) {
            try {
                channel.close();
            } catch (RuntimeException e) {
                log.warn("channel close failed channel={}", channel.name(), e);
            }
        }
        debouncers.values().forEach(InboundDebouncer::close);
    }

    /**
     * Every channel's part of one new configuration, prepared and not yet visible. Exactly one of
     * {@link #commit()} and {@link #discard()} takes effect; a discard after either is harmless, so a
     * caller may discard in a {@code finally}.
     */
    public final class Prepared {
        private final List<Step> steps;

        private Prepared(List<Step> steps) {
            this.steps = List.copyOf(steps);
        }

        /** Swaps every prepared part in; it cannot fail for a reason a prepare could have found. */
        public void commit() {
            List<InboundDebouncer> closing;
            synchronized (lock) {
                if (pending != this) {
                    throw new IllegalStateException(closed ? "channels are closed"
                            : "this channel change was already committed or discarded");
                }
                pending = null;
                closing = apply(steps);
            }
            // Outside the lock: closing flushes what the debouncer holds on to the sessions.
            closing.forEach(InboundDebouncer::close);
        }

        /** Releases what was prepared; the channels run on as they were. */
        public void discard() {
            synchronized (lock) {
                if (pending != this) {
                    return;
                }
                pending = null;
                steps.forEach(Step::discard);
            }
        }

        /** What the change does to each channel, by name: for logs and tests. */
        public Map<String, ChannelChange.Kind> kinds() {
            Map<String, ChannelChange.Kind> kinds = new LinkedHashMap<>();
            steps.forEach(step -> kinds.put(step.name(), step.change().kind()));
            return kinds;
        }
    }

    /**
     * One channel's prepared part: its change (made by {@code replacement} when the channel asked for a
     * rebuild, else by {@code current}), whether it is enabled afterwards and, if so, its debounce settings.
     */
    private record Step(Channel current, Channel replacement, ChannelChange change, boolean enabled,
                        DebounceSettings settings) {

        String name() {
            return current.name();
        }

        Channel after() {
            return replacement != null ? replacement : current;
        }

        void discard() {
            change.discard();
            if (replacement != null) {
                replacement.close();
            }
        }
    }
}
