package dev.ferry.agent.command;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.agent.AgentFailure;
import dev.ferry.agent.AgentRequest;
import dev.ferry.agent.AgentRun;
import dev.ferry.config.CommandConfig;
import dev.ferry.time.Scheduler;

/**
 * One turn's program, ended exactly once: by its exit, its timeout, its output cap, a failure to start,
 * or an abort. Whoever ends it cancels the timer, kills the process tree if it is still running and
 * completes {@link #reply()}; nothing reaches the observer after that.
 *
 * <p>State: one {@link Phase}, guarded by {@code lock}: {@code STARTING} until the process exists, then
 * {@code RUNNING}, then one of the ended phases through {@link #end}. The observer is called under
 * {@code lock} (it must not block, by its contract), so once {@link #abort()} returns no piece can follow.
 *
 * <p>Threads: three tasks on the backend's I/O pool, started one after another by {@link #launch}:
 * start the process and write stdin (ends once stdin is written), read stdout (ends at its end of file
 * and the exit), read stderr (ends at its end of file). The timeout runs on the scheduler; {@link #abort()}
 * on any thread.
 */
final class CommandRun implements AgentRun {
    private static final Logger log = LoggerFactory.getLogger(CommandRun.class);

    /** How long a process asked to stop may take before it is killed. */
    static final Duration KILL_GRACE = Duration.ofSeconds(2);
    private static final int STDERR_TAIL_BYTES = 2048;
    private static final int READ_BUFFER_BYTES = 8192;

    enum Phase {
        STARTING, RUNNING, REPLIED, FAILED, ABORTED;

        boolean isEnded() {
            return this != STARTING && this != RUNNING;
        }
    }

    private final ProcessBuilder builder;
    private final AgentRequest request;
    private final CommandConfig config;
    private final Scheduler scheduler;
    private final Executor io;
    private final Consumer<CommandRun> onEnded;
    private final CompletableFuture<String> reply = new CompletableFuture<>();
    /** Completed by the stderr reader at stderr's end, so the exit is judged with the whole tail at hand. */
    private final CompletableFuture<Void> stderrDone = new CompletableFuture<>();
    private final StderrTail stderr = new StderrTail(STDERR_TAIL_BYTES);

    private final ReentrantLock lock = new ReentrantLock();
    @GuardedBy("lock")
    private Phase phase = Phase.STARTING;
    /** Null until the process has started. */
    @GuardedBy("lock")
    private Process process;
    @GuardedBy("lock")
    private Scheduler.Cancellable timer = () -> {};

    CommandRun(ProcessBuilder builder, AgentRequest request, CommandConfig config, Scheduler scheduler, Executor io,
               Consumer<CommandRun> onEnded) {
        this.builder = builder;
        this.request = request;
        this.config = config;
        this.scheduler = scheduler;
        this.io = io;
        this.onEnded = onEnded;
    }

    /** Starts the timer and hands the start to the I/O pool; returns at once. */
    void launch() {
        lock.lock();
        try {
            // The timeout covers the whole turn, a wait for a free I/O thread included.
            timer = scheduler.schedule(Duration.ofMillis(config.timeoutMs()), this::expire);
        } finally {
            lock.unlock();
        }
        try {
            io.execute(this::startProcess);
        } catch (RejectedExecutionException closed) {
            fail(new AgentFailure(AgentFailure.Kind.EXIT, "agent command could not start: " + argv0() + ": the backend is closed"));
        }
    }

    @Override
    public CompletableFuture<String> reply() {
        return reply;
    }

    @Override
    public void abort() {
        end(Phase.ABORTED, null, new CancellationException("turn aborted"), () -> {});
    }

    @Override
    public String toString() {
        lock.lock();
        try {
            return "CommandRun[" + request.sessionKey() + " " + phase + "]";
        } finally {
            lock.unlock();
        }
    }

    private void startProcess() {
        Process started;
        try {
            started = builder.start();
        } catch (IOException | RuntimeException e) {
            fail(new AgentFailure(AgentFailure.Kind.EXIT, "agent command could not start: " + argv0() + ": " + reason(e), e),
                    () -> log.warn("agent command could not start session={} program={} reason={}", request.sessionKey(), argv0(), reason(e)));
            return;
        }
        boolean ended;
        lock.lock();
        try {
            ended = phase.isEnded();
            if (!ended) {
                process = started;
                phase = Phase.RUNNING;
            }
        } finally {
            lock.unlock();
        }
        if (ended) {
            // Aborted or timed out while starting: the process was never this run's to keep.
            ProcessTree.of(started.toHandle()).destroy(scheduler, KILL_GRACE);
            return;
        }
        try {
            io.execute(() -> readStdout(started));
            io.execute(() -> readStderr(started));
        } catch (RejectedExecutionException closed) {
            fail(new AgentFailure(AgentFailure.Kind.EXIT, "agent command could not run: the backend is closed"));
            return;
        }
        writeInput(started);
    }

    private void writeInput(Process started) {
        byte[] input = config.input() == CommandConfig.Input.JSON
                ? PromptDocument.of(request, SessionAddress.of(request)).toJson()
                : request.prompt().getBytes(StandardCharsets.UTF_8);
        try (OutputStream stdin = started.getOutputStream()) {
            stdin.write(input);
        } catch (IOException e) {
            // A program may exit, or close stdin, without reading all of it; its exit status says whether that was wrong.
            log.debug("agent command did not read all of stdin session={} reason={}", request.sessionKey(), e.getMessage());
        }
    }

    private void readStdout(Process started) {
        ReplyText text = new ReplyText();
        byte[] buffer = new byte[READ_BUFFER_BYTES];
        long total = 0;
        // Closed only at the end of this method, after any failure has taken the process tree: closing the
        // pipe first could kill the program by SIGPIPE and orphan its children out of the tree.
        InputStream stdout = started.getInputStream();
        try {
            int read;
            while ((read = stdout.read(buffer)) != -1) {
                total += read;
                if (total > config.maxOutputBytes()) {
                    fail(new AgentFailure(AgentFailure.Kind.OUTPUT_TOO_LARGE,
                            "agent command printed more than " + config.maxOutputBytes() + " bytes"),
                            () -> log.warn("agent command output over the cap session={} maxOutputBytes={}", request.sessionKey(), config.maxOutputBytes()));
                    return;
                }
                if (!show(text.append(buffer, read))) {
                    return;
                }
            }
            if (!show(text.finish())) {
                return;
            }
            int status = started.waitFor();
            String whole = text.reply();
            // Judged once stderr has ended too, on whichever reader is last, so the log line has the whole tail.
            // exited() only ends the run, which cannot throw, so the stage returned has nothing to report.
            var unused = stderrDone.thenRun(() -> exited(status, whole));
        } catch (IOException e) {
            // Reading fails when the run was ended and its process killed; only a live run is failed by it.
            fail(new AgentFailure(AgentFailure.Kind.EXIT, "agent command output could not be read: " + e.getMessage(), e));
        } catch (RuntimeException e) {
            // An observer that throws breaks its contract; the turn fails rather than leaving the reader dead and the program stuck.
            fail(new AgentFailure(AgentFailure.Kind.EXIT, "agent command output could not be passed on", e),
                    () -> log.warn("agent command output could not be passed on session={}", request.sessionKey(), e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(new AgentFailure(AgentFailure.Kind.EXIT, "agent command was not waited for: the backend is closing"));
        } finally {
            closeQuietly(stdout);
        }
    }

    private void closeQuietly(InputStream stream) {
        try {
            stream.close();
        } catch (IOException e) {
            log.debug("agent command stdout did not close session={} reason={}", request.sessionKey(), e.getMessage());
        }
    }

    private void readStderr(Process started) {
        byte[] buffer = new byte[STDERR_TAIL_BYTES];
        try (InputStream err = started.getErrorStream()) {
            int read;
            while ((read = err.read(buffer)) != -1) {
                stderr.append(buffer, read);
            }
        } catch (IOException e) {
            log.debug("agent command stderr closed session={} reason={}", request.sessionKey(), e.getMessage());
        } finally {
            stderrDone.complete(null);
        }
    }

    /** Passes a piece of reply text to the observer while the run is live; false once it has ended. */
    private boolean show(String piece) {
        lock.lock();
        try {
            if (phase != Phase.RUNNING) {
                return false;
            }
            if (!piece.isEmpty()) {
                request.observer().onText(piece);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void exited(int status, String whole) {
        if (status == 0) {
            end(Phase.REPLIED, whole, null, () -> {});
        } else {
            fail(new AgentFailure(AgentFailure.Kind.EXIT, "agent command exited with status " + status),
                    () -> log.warn("agent command exited session={} status={} stderr={}", request.sessionKey(), status, stderr.text()));
        }
    }

    private void expire() {
        fail(new AgentFailure(AgentFailure.Kind.TIMEOUT, "agent command timed out after " + describe(config.timeoutMs())),
                () -> log.warn("agent command timed out session={} timeoutMs={} stderr={}", request.sessionKey(), config.timeoutMs(), stderr.text()));
    }

    private void fail(AgentFailure failure) {
        end(Phase.FAILED, null, failure, () -> {});
    }

    /** Fails the run unless it has ended already, writing {@code logLine} first, so the log tells before the reply does. */
    private void fail(AgentFailure failure, Runnable logLine) {
        end(Phase.FAILED, null, failure, logLine);
    }

    /**
     * Ends the run unless it has ended already: kills what is left of
     * the process tree, writes {@code logLine}, then completes the reply.
     */
    private void end(Phase to, String text, Throwable failure, Runnable logLine) {
        ProcessTree tree;
        Scheduler.Cancellable pending;
        lock.lock();
        try {
            if (phase.isEnded()) {
                return;
            }
            phase = to;
            // Taken under the lock: the stdout reader closes the pipe only after it sees the run ended,
            // and a program killed by that SIGPIPE first would orphan its children out of the tree.
            tree = process != null && process.isAlive() ? ProcessTree.of(process.toHandle()) : ProcessTree.NONE;
            pending = timer;
        } finally {
            lock.unlock();
        }
        pending.cancel();
        onEnded.accept(this);
        tree.destroy(scheduler, KILL_GRACE);
        logLine.run();
        if (failure == null) {
            reply.complete(text);
        } else {
            reply.completeExceptionally(failure);
        }
    }

    private String argv0() {
        List<String> argv = builder.command();
        return argv.isEmpty() ? "" : argv.get(0);
    }

    /** The operating system's words for why a program did not start, without Java's "Cannot run program" wrapping. */
    private static String reason(Exception e) {
        Throwable cause = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause() : e;
        String message = String.valueOf(cause.getMessage());
        return message.replaceFirst("^error=\\d+, ", "");
    }

    private static String describe(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }
}
