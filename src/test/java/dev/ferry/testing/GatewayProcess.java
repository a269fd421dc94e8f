package dev.ferry.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.errorprone.annotations.concurrent.GuardedBy;

/**
 * The real thing: {@code java -jar target/ferry.jar ...} as a child process, its log captured. The
 * gateway's address is read from its "Ferry ready url=..." line, so tests can use port 0.
 */
public final class GatewayProcess implements AutoCloseable {

    private static final Pattern READY = Pattern.compile("Ferry ready url=(\\S+)");

    private final Process process;
    private final List<String> output = new ArrayList<>();
    private final CompletableFuture<URI> ready = new CompletableFuture<>();

    private GatewayProcess(Process process) {
        this.process = process;
        Thread reader = new Thread(this::readOutput, "gateway-output");
        reader.setDaemon(true);
        reader.start();
    }

    public static Path jar() {
        Path jar = Path.of("target", "ferry.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run the package phase first (mvn verify does)");
        }
        return jar;
    }

    /** A loopback port free right now, for a configuration that must name its port (restarts, the CLI). */
    public static int freePort() throws IOException {
        try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Runs {@code ferry <args>} and returns at once. */
    public static GatewayProcess start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-XX:+UseSerialGC", "-jar", jar().toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("FERRY_LOG_LEVEL", "INFO");
        return new GatewayProcess(builder.start());
    }

    /** Runs a command to completion and returns its exit code and output. */
    public static Result run(Duration timeout, String... args) throws IOException, InterruptedException {
        try (GatewayProcess child = start(args)) {
            if (!child.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("ferry " + String.join(" ", args) + " did not finish in " + timeout);
            }
            child.awaitOutputClosed();
            return new Result(child.process.exitValue(), child.output());
        }
    }

    /** The exit code and every line printed. */
    public record Result(int exitCode, String output) {}

    public URI awaitReady(Duration timeout) throws Exception {
        try {
            return ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("gateway not ready; output so far:\n" + output(), e);
        }
    }

    public String output() {
        synchronized (output) {
            return String.join("\n", output);
        }
    }

    public Process process() {
        return process;
    }

    /** After exit the reader thread may still hold the last lines; wait until it has seen the end of the stream. */
    private void awaitOutputClosed() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        synchronized (output) {
            long remaining;
            while (!outputClosed && (remaining = deadline - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.timedWait(output, remaining);
            }
        }
    }

    @GuardedBy("output")
    private boolean outputClosed;

    private void readOutput() {
        try (var reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                synchronized (output) {
                    output.add(line);
                }
                Matcher matcher = READY.matcher(line);
                if (matcher.find()) {
                    ready.complete(URI.create(matcher.group(1)));
                }
            }
        } catch (IOException ignored) {
            // The process went away; what was read is kept.
        } finally {
            synchronized (output) {
                outputClosed = true;
                output.notifyAll();
            }
            ready.completeExceptionally(new IllegalStateException("gateway output ended before it was ready"));
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Stops the process: SIGTERM first, then SIGKILL if it lingers. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
