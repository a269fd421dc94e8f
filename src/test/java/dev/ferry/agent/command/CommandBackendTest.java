package dev.ferry.agent.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.agent.AgentFailure;
import dev.ferry.agent.AgentRequest;
import dev.ferry.agent.AgentRun;
import dev.ferry.agent.TurnObserver;
import dev.ferry.config.CommandConfig;
import dev.ferry.journal.Exchange;
import dev.ferry.time.ManualScheduler;

/** Real programs under /bin/sh; time is a manual scheduler's, so a timeout happens when the test says. */
class CommandBackendTest {

    private static final String KEY = "agent:main:webhook:default:conv-7";
    private static final long TIMEOUT_MS = 30_000;
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** The program's own pid and its background child's, printed first by the scripts that start one. */
    private static final Pattern PIDS = Pattern.compile("^(\\d+) (\\d+)");

    private final ManualScheduler scheduler = new ManualScheduler();
    private final List<CommandBackend> backends = new ArrayList<>();
    private final List<String> pieces = Collections.synchronizedList(new ArrayList<>());
    private final TurnObserver observer = pieces::add;

    @TempDir
    Path dir;

    @AfterEach
    void closeBackends() {
        backends.forEach(CommandBackend::close);
    }

    private CommandBackend backend(CommandConfig.Input input, long maxOutputBytes, List<String> argv) {
        CommandBackend backend = new CommandBackend(new CommandConfig(argv, TIMEOUT_MS, input, maxOutputBytes), 2, scheduler);
        backends.add(backend);
        return backend;
    }

    private CommandBackend shell(String script) {
        return backend(CommandConfig.Input.TEXT, CommandConfig.DEFAULT_MAX_OUTPUT_BYTES, List.of("/bin/sh", "-c", script));
    }

    private AgentRequest request(String prompt) {
        return new AgentRequest(KEY, "be brief", List.of(), prompt, observer);
    }

    private static String replyOf(AgentRun run) throws Exception {
        return run.reply().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static AgentFailure failureOf(AgentRun run) {
        Throwable cause = assertThatThrownBy(() -> run.reply().get(WAIT.toSeconds(), TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).actual().getCause();
        assertThat(cause).isInstanceOf(AgentFailure.class);
        return (AgentFailure) cause;
    }

    private String seen() {
        synchronized (pieces) {
            return String.join("", pieces);
        }
    }

    /** Waits for the script's first line, "$$ $!", and returns both pids. */
    private long[] awaitPids() {
        long[] pids = new long[2];
        await().atMost(WAIT).until(() -> {
            Matcher m = PIDS.matcher(seen());
            if (!m.find()) {
                return false;
            }
            pids[0] = Long.parseLong(m.group(1));
            pids[1] = Long.parseLong(m.group(2));
            return true;
        });
        return pids;
    }

    private static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static void awaitGone(long... pids) {
        for (long pid : pids) {
            await().atMost(WAIT).until(() -> !isAlive(pid));
        }
    }

    @Test
    void repliesWithStdoutAndShowsTheProgramItsSession() throws Exception {
        CommandBackend backend = shell("printf '%s|%s|%s|' \"$FERRY_SESSION_KEY\" \"$FERRY_CONVERSATION\" \"$FERRY_CHANNEL\"; cat; echo");

        AgentRun run = backend.start(request("hello wörld"));

        assertThat(replyOf(run)).isEqualTo(KEY + "|conv-7|webhook|hello wörld");
        assertThat(seen()).isEqualTo(KEY + "|conv-7|webhook|hello wörld");
        assertThat(backend.name()).isEqualTo("command");
        assertThat(run.steer("more")).isFalse();
    }

    @Test
    void jsonInputCarriesSystemPromptHistoryInOrderAndPrompt() throws Exception {
        CommandBackend backend = backend(CommandConfig.Input.JSON, CommandConfig.DEFAULT_MAX_OUTPUT_BYTES, List.of("cat"));
        List<Exchange> history = List.of(
                new Exchange(1, "r1", "first question", "first answer", 1000, List.of("m1")),
                new Exchange(2, "r2", "second question", "second answer", 2000, List.of("m2")));

        String reply = replyOf(backend.start(new AgentRequest(KEY, "be brief", history, "third question", observer)));

        assertThat(reply).startsWith("{\"systemPrompt\":");
        JsonNode document = new ObjectMapper().readTree(reply);
        assertThat(document.get("systemPrompt").asText()).isEqualTo("be brief");
        assertThat(document.get("prompt").asText()).isEqualTo("third question");
        assertThat(document.get("sessionKey").asText()).isEqualTo(KEY);
        assertThat(document.get("conversation").asText()).isEqualTo("conv-7");
        List<String> messages = new ArrayList<>();
        document.get("history").forEach(m -> messages.add(m.get("role").asText() + ": " + m.get("content").asText()));
        assertThat(messages).containsExactly("user: first question", "assistant: first answer",
                "user: second question", "assistant: second answer");
    }

    @Test
    void streamsPiecesInOrderWithAUtf8CharacterSplitAcrossReadsIntact() throws Exception {
        Path gate = dir.resolve("gate");
        assertThat(new ProcessBuilder("mkfifo", gate.toString()).start().waitFor()).isZero();
        // "é" is C3 A9: the first write ends after C3, and the script waits at the gate until the test has seen "caf".
        CommandBackend backend = shell("printf 'caf\\303'; read line < '" + gate + "'; printf '\\251 au lait\\n'");
        CompletableFuture<String> first = new CompletableFuture<>();
        AgentRequest request = new AgentRequest(KEY, null, List.of(), "order", piece -> {
            pieces.add(piece);
            first.complete(piece);
        });

        AgentRun run = backend.start(request);
        assertThat(first.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("caf");
        Files.writeString(gate, "go\n");

        assertThat(replyOf(run)).isEqualTo("café au lait");
        assertThat(pieces).containsExactly("caf", "é au lait");
    }

    @Test
    void nonZeroExitFailsWithExitStatusAndLogsStderrOutsideTheReply() {
        Logger logger = (Logger) LoggerFactory.getLogger(CommandRun.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            CommandBackend backend = shell("echo partial; echo 'secret trace line 1' >&2; echo 'line 2' >&2; exit 3");

            AgentFailure failure = failureOf(backend.start(request("hi")));

            assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.EXIT);
            assertThat(failure.getMessage()).isEqualTo("agent command exited with status 3");
            assertThat(appender.list).anySatisfy(event -> assertThat(event.getFormattedMessage())
                    .contains("session=" + KEY, "status=3", "stderr=secret trace line 1 | line 2"));
        } finally {
            logger.detachAppender(appender);
        }
    }

    @Test
    void timeoutFailsTheTurnAndKillsTheWholeProcessTree() {
        CommandBackend backend = shell("sleep 1000 & echo \"$$ $!\"; wait");
        AgentRun run = backend.start(request("hi"));
        long[] pids = awaitPids();

        scheduler.advance(Duration.ofMillis(TIMEOUT_MS));

        AgentFailure failure = failureOf(run);
        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.TIMEOUT);
        assertThat(failure.getMessage()).isEqualTo("agent command timed out after 30 s");
        awaitGone(pids);
    }

    @Test
    void outputOverTheCapFailsAndKillsTheProgram() {
        CommandBackend backend = backend(CommandConfig.Input.TEXT, 100_000,
                List.of("/bin/sh", "-c", "echo \"$$ $$\"; exec yes"));

        AgentRun run = backend.start(request("hi"));

        AgentFailure failure = failureOf(run);
        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.OUTPUT_TOO_LARGE);
        assertThat(failure.getMessage()).isEqualTo("agent command printed more than 100000 bytes");
        awaitGone(awaitPids()[0]);
    }

    @Test
    void abortKillsTheProgramAndItsChildAndNothingMoreReachesTheObserver() {
        CommandBackend backend = backend(CommandConfig.Input.TEXT, Long.MAX_VALUE,
                List.of("/bin/sh", "-c", "sleep 1000 & echo \"$$ $!\"; while :; do echo tick; done"));
        AgentRun run = backend.start(request("hi"));
        long[] pids = awaitPids();

        run.abort();
        int piecesAtAbort = pieces.size();

        assertThat(run.reply()).isCompletedExceptionally();
        assertThatThrownBy(() -> run.reply().join()).isInstanceOf(CancellationException.class);
        awaitGone(pids);
        assertThat(pieces).hasSize(piecesAtAbort);
    }

    @Test
    void closingTheBackendKillsRunningPrograms() {
        CommandBackend backend = shell("sleep 1000 & echo \"$$ $!\"; wait");
        AgentRun run = backend.start(request("hi"));
        long[] pids = awaitPids();

        backend.close();

        assertThat(run.reply()).isCompletedExceptionally();
        awaitGone(pids);
    }

    @Test
    void missingProgramFailsWithAClearMessage() {
        CommandBackend backend = backend(CommandConfig.Input.TEXT, CommandConfig.DEFAULT_MAX_OUTPUT_BYTES,
                List.of(dir.resolve("no-such-agent").toString()));

        AgentFailure failure = failureOf(backend.start(request("hi")));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.EXIT);
        assertThat(failure.getMessage())
                .isEqualTo("agent command could not start: " + dir.resolve("no-such-agent") + ": No such file or directory");
    }

    @Test
    void programThatIsNotExecutableFailsWithAClearMessage() throws IOException {
        Path script = Files.writeString(dir.resolve("agent.sh"), "#!/bin/sh\necho hi\n", StandardCharsets.UTF_8);
        CommandBackend backend = backend(CommandConfig.Input.TEXT, CommandConfig.DEFAULT_MAX_OUTPUT_BYTES,
                List.of(script.toString()));

        AgentFailure failure = failureOf(backend.start(request("hi")));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.EXIT);
        assertThat(failure.getMessage()).isEqualTo("agent command could not start: " + script + ": Permission denied");
    }
}
