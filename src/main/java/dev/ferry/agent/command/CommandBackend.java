package dev.ferry.agent.command;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.AgentRequest;
import dev.ferry.agent.AgentRun;
import dev.ferry.config.CommandConfig;
import dev.ferry.time.Scheduler;

/**
 * Runs {@code agent.command.argv} once per turn, without a shell, with the gateway's environment plus
 * {@code FERRY_SESSION_KEY}, {@code FERRY_CONVERSATION} (empty when the session key names none) and, when
 * known, {@code FERRY_CHANNEL}; each turn is a {@link CommandRun}. Closing it kills every running program.
 *
 * <p>Threads: one I/O pool of daemon threads named {@code ferry-command-io-N}, at most three per turn
 * that may run at once ({@code agent.maxConcurrent}), each ending after 30 s idle; a run beyond that
 * waits in the pool's queue, its timeout running. Thread-safe; the running turns are a concurrent set.
 */
public final class CommandBackend implements AgentBackend {

    /** Start and stdin, stdout, stderr. */
    private static final int THREADS_PER_TURN = 3;

    private final CommandConfig config;
    private final Scheduler scheduler;
    private final ThreadPoolExecutor io;
    private final Set<CommandRun> running = ConcurrentHashMap.newKeySet();

    public CommandBackend(CommandConfig config, int maxConcurrentTurns, Scheduler scheduler) {
        if (config.argv().isEmpty()) {
            throw new IllegalArgumentException("agent.command.argv: must name the program to run, got []");
        }
        this.config = config;
        this.scheduler = scheduler;
        int threads = (int) Math.min(Integer.MAX_VALUE, (long) THREADS_PER_TURN * Math.max(1, maxConcurrentTurns));
        AtomicInteger count = new AtomicInteger();
        this.io = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), runnable -> {
            Thread thread = new Thread(runnable, "ferry-command-io-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        io.allowCoreThreadTimeOut(true);
    }

    @Override
    public String name() {
        return "command";
    }

    @Override
    public AgentRun start(AgentRequest request) {
        CommandRun run = new CommandRun(processFor(request), request, config, scheduler, io, running::remove);
        running.add(run);
        run.launch();
        return run;
    }

    private ProcessBuilder processFor(AgentRequest request) {
        ProcessBuilder builder = new ProcessBuilder(config.argv());
        SessionAddress address = SessionAddress.of(request);
        Map<String, String> environment = builder.environment();
        environment.put("FERRY_SESSION_KEY", request.sessionKey());
        environment.put("FERRY_CONVERSATION", address.conversation() == null ? "" : address.conversation());
        if (address.channel() != null) {
            environment.put("FERRY_CHANNEL", address.channel());
        } else {
            // The gateway's own environment must not pose as this turn's channel.
            environment.remove("FERRY_CHANNEL");
        }
        return builder;
    }

    /** Kills every running program (their turns end as aborted); the I/O threads end once their streams close. */
    @Override
    public void close() {
        io.shutdown();
        for (CommandRun run : running) {
            run.abort();
        }
    }
}
