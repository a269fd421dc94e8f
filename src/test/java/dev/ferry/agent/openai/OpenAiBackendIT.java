package dev.ferry.agent.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.sun.net.httpserver.HttpServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ferry.agent.AgentFailure;
import dev.ferry.agent.AgentRequest;
import dev.ferry.agent.AgentRun;
import dev.ferry.agent.BackendContext;
import dev.ferry.config.OpenAiConfig;
import dev.ferry.journal.Exchange;
import dev.ferry.testing.FakeOpenAiServer.Behaviour;
import dev.ferry.testing.FakeOpenAiServer;
import dev.ferry.time.SystemScheduler;
import dev.ferry.time.WallClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The openai backend against a real HTTP server on loopback that speaks the chat-completions protocol. */
class OpenAiBackendIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String KEY = "sk-test-0123456789abcdef";

    private final SystemScheduler scheduler = new SystemScheduler("openai-it-timer");
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final Map<String, String> environment = new HashMap<>();
    private final List<String> deltas = new CopyOnWriteArrayList<>();
    private FakeOpenAiServer server;
    private OpenAiBackend backend;

    /** The settings a test changes, at values that keep every wait short. */
    private String keyEnv;
    private boolean stream = true;
    private long timeoutMs = 10_000;
    private long firstTokenTimeoutMs = 5_000;
    private long idleTimeoutMs = 5_000;
    private int maxRetries = 2;
    private String baseUrl;

    @BeforeEach
    void startServer() throws IOException {
        server = FakeOpenAiServer.start();
        baseUrl = server.baseUrl();
    }

    @AfterEach
    void stop() throws IOException {
        if (backend != null) {
            backend.close();
        }
        server.close();
        scheduler.close();
    }

    private OpenAiBackend backend() {
        OpenAiConfig config = new OpenAiConfig(baseUrl, "fake-model", keyEnv, stream, timeoutMs, 64, 0.5, 2_000,
                firstTokenTimeoutMs, idleTimeoutMs, maxRetries);
        backend = new OpenAiBackend(config, new BackendContext(scheduler, WallClock.SYSTEM, environment::get, metrics));
        return backend;
    }

    private AgentRun start(String prompt) {
        return backend().start(request(prompt));
    }

    private AgentRequest request(String prompt) {
        return new AgentRequest("agent:main:main", "", List.of(), prompt, deltas::add);
    }

    @Test
    void aServerThatAnswersAStreamedRequestWithAWholeCompletionIsReadWhole() throws Exception {
        HttpServer whole = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        whole.createContext("/v1/chat/completions", exchange -> {
            exchange.getRequestBody().readAllBytes();
            byte[] body = ("{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
                    + "\"message\":{\"role\":\"assistant\",\"content\":\"not streamed\"},\"finish_reason\":\"stop\"}]}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        whole.start();
        try {
            baseUrl = "http://127.0.0.1:" + whole.getAddress().getPort() + "/v1";
            assertThat(replyOf(start("stream, please"))).isEqualTo("not streamed");
        } finally {
            whole.stop(0);
        }
    }

    private static String replyOf(AgentRun run) throws Exception {
        return run.reply().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static AgentFailure failureOf(AgentRun run) throws InterruptedException, TimeoutException {
        try {
            run.reply().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(AgentFailure.class);
            return (AgentFailure) e.getCause();
        }
        throw new AssertionError("the run succeeded");
    }

    /** Completes on the first delta the observer hears. */
    private AgentRequest requestSignallingFirstDelta(String prompt, CompletableFuture<Void> firstDelta) {
        return new AgentRequest("agent:main:main", "", List.of(), prompt, delta -> {
            deltas.add(delta);
            firstDelta.complete(null);
        });
    }

    private double counter(String name, String tag, String value) {
        var counter = metrics.find(name).tag(tag, value).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void streamsTheReplyAsDeltasInOrderAndCompletesWithTheWholeText() throws Exception {
        Behaviour reply = Behaviour.reply("Hello there, my patient friend").withChunks(5).withSplitWrites()
                .withKeepAlives().withCrlf();
        server.enqueue(reply);

        AgentRun run = start("hi");

        assertThat(replyOf(run)).isEqualTo("Hello there, my patient friend");
        assertThat(deltas).containsExactlyElementsOf(reply.pieces());
        assertThat(backend.name()).isEqualTo("openai");
    }

    @Test
    void answersWholeWhenNotStreaming() throws Exception {
        stream = false;
        server.enqueue(Behaviour.reply("All at once").withReasoning("secret thoughts").withUsage(7, 3));

        AgentRun run = start("hi");

        assertThat(replyOf(run)).isEqualTo("All at once");
        FakeOpenAiServer.Received request = server.requests().get(0);
        assertThat(request.body().path("stream").asBoolean(true)).isFalse();
        assertThat(request.body().has("stream_options")).isFalse();
        assertThat(run.steer("too late")).isFalse();
        assertThat(counter("ferry.model.tokens", "direction", "out")).isEqualTo(3);
    }

    @Test
    void sendsSystemPromptHistoryPairsAndPromptInOrderWithTheSettings() throws Exception {
        server.enqueue(Behaviour.reply("ok"));
        List<Exchange> history = List.of(new Exchange(1, "r1", "What is 2+2?", "4", 0, List.of()),
                new Exchange(2, "r2", "And 3+3?", "6", 0, List.of()));

        AgentRun run = backend().start(new AgentRequest("s", "You are terse.", history, "And 4+4?"));
        replyOf(run);

        FakeOpenAiServer.Received request = server.requests().get(0);
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.path()).isEqualTo("/v1/chat/completions");
        assertThat(request.header("content-type")).contains("application/json");
        assertThat(request.messages()).containsExactly("system: You are terse.", "user: What is 2+2?", "assistant: 4",
                "user: And 3+3?", "assistant: 6", "user: And 4+4?");
        assertThat(request.body().path("model").asText()).isEqualTo("fake-model");
        assertThat(request.body().path("max_tokens").asInt()).isEqualTo(64);
        assertThat(request.body().path("temperature").asDouble()).isEqualTo(0.5);
        assertThat(request.body().path("stream").asBoolean()).isTrue();
        assertThat(request.body().path("stream_options").path("include_usage").asBoolean()).isTrue();
    }

    @Test
    void sendsTheKeyAsABearerTokenOnlyWhenTheEnvironmentHasIt() throws Exception {
        keyEnv = "FERRY_TEST_OPENAI_KEY";
        replyOf(start("without"));
        backend.close();
        environment.put(keyEnv, KEY);
        replyOf(start("with"));

        assertThat(server.requests().get(0).header("authorization")).isEmpty();
        assertThat(server.requests().get(1).header("authorization")).contains("Bearer " + KEY);
    }

    @Test
    void keepsReasoningContentOutOfTheReply() throws Exception {
        server.enqueue(Behaviour.reply("The answer is 42.").withReasoning("Let me think about this carefully. "));

        AgentRun run = start("question");

        assertThat(replyOf(run)).isEqualTo("The answer is 42.");
        assertThat(String.join("", deltas)).isEqualTo("The answer is 42.");
    }

    @Test
    void acceptsNullContentFinishReasonAndUsageChunksAndCountsTheTokens() throws Exception {
        server.enqueue(Behaviour.reply("counted reply").withNullContentChunks().withUsage(11, 4));

        AgentRun run = start("count me");

        assertThat(replyOf(run)).isEqualTo("counted reply");
        assertThat(counter("ferry.model.tokens", "direction", "in")).isEqualTo(11);
        assertThat(counter("ferry.model.tokens", "direction", "out")).isEqualTo(4);
        assertThat(metrics.find("ferry.model.latency").timer().count()).isEqualTo(1);
        assertThat(metrics.find("ferry.model.first.token").timer().count()).isEqualTo(1);
    }

    @Test
    void retriesARateLimitAfterItsRetryAfter() throws Exception {
        server.enqueue(Behaviour.error(429, "Rate limit reached").withRetryAfter("1"), Behaviour.reply("patient"));

        AgentRun run = start("hi");

        assertThat(replyOf(run)).isEqualTo("patient");
        List<FakeOpenAiServer.Received> requests = server.requests();
        assertThat(requests).hasSize(2);
        assertThat(requests.get(1).receivedAtMillis() - requests.get(0).receivedAtMillis()).isBetween(900L, 3_000L);
    }

    @Test
    void failsWithServerErrorAfterMaxRetriesPlusOneRequests() throws Exception {
        server.byDefault(Behaviour.error(500, "The server had an error").withRetryAfter("0"));

        AgentFailure failure = failureOf(start("hi"));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.SERVER_ERROR);
        assertThat(failure.getMessage()).contains("500").contains("The server had an error");
        assertThat(server.requests()).hasSize(maxRetries + 1);
        assertThat(counter("ferry.model.errors", "kind", "server_error")).isEqualTo(1);
    }

    @Test
    void failsWithRateLimitedOnceTheRetriesAreSpent() throws Exception {
        maxRetries = 1;
        server.byDefault(Behaviour.error(429, "Too many requests").withRetryAfter("0"));

        AgentFailure failure = failureOf(start("hi"));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.RATE_LIMITED);
        assertThat(server.requests()).hasSize(2);
    }

    @Test
    void refusedCredentialsFailAfterExactlyOneRequestWithoutShowingTheKey() throws Exception {
        keyEnv = "FERRY_TEST_OPENAI_KEY";
        environment.put(keyEnv, KEY);
        server.byDefault(Behaviour.error(401, "Incorrect API key provided").withAuthorizationEchoed());

        AgentFailure failure = failureOf(start("hi"));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.UNAUTHORIZED);
        assertThat(failure.getMessage()).contains("401").contains("Incorrect API key provided").doesNotContain(KEY);
        assertThat(String.valueOf(failure)).doesNotContain(KEY);
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void anUnknownModelIsNotFoundAndNotRetried() throws Exception {
        server.byDefault(Behaviour.error(404, "The model `fake-model` does not exist"));

        AgentFailure failure = failureOf(start("hi"));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.NOT_FOUND);
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void anyOtherClientErrorIsRefusedAndNotRetried() throws Exception {
        server.byDefault(Behaviour.error(400, "max_tokens is too large"));

        AgentFailure failure = failureOf(start("hi"));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.REFUSED);
        assertThat(failure.getMessage()).contains("400").contains("max_tokens is too large");
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void aServerThatNeverAnswersTimesOutWaitingForTheFirstToken() throws Exception {
        firstTokenTimeoutMs = 300;
        server.byDefault(Behaviour.hang());

        AgentFailure failure = failureOf(start("hi"));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.TIMEOUT);
        assertThat(failure.getMessage()).isEqualTo("no first token after 0.3 s");
        server.requests().get(0).awaitClientClose(WAIT);
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void aStreamThatGoesSilentMidReplyTimesOut() throws Exception {
        idleTimeoutMs = 300;
        Behaviour stall = Behaviour.stallAfter("one two three", 3, 1);
        server.enqueue(stall);

        AgentFailure failure = failureOf(start("hi"));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.TIMEOUT);
        assertThat(failure.getMessage()).contains("silent").contains("0.3 s");
        assertThat(deltas).containsExactly(stall.pieces().get(0));
        server.requests().get(0).awaitClientClose(WAIT);
    }

    @Test
    void aTurnLongerThanItsTimeoutFails() throws Exception {
        timeoutMs = 400;
        server.enqueue(Behaviour.reply("slow but steady words").withChunks(4).withDelays(Duration.ZERO, Duration.ofMillis(300)));

        AgentFailure failure = failureOf(start("hi"));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.TIMEOUT);
        assertThat(failure.getMessage()).isEqualTo("no whole reply within 0.4 s");
        server.requests().get(0).awaitClientClose(WAIT);
    }

    @Test
    void aConnectionDroppedMidReplyFailsWithNetworkAndIsNotRetried() throws Exception {
        server.enqueue(Behaviour.dropAfter("half of a reply", 4, 2), Behaviour.reply("must not be asked"));

        AgentFailure failure = failureOf(start("hi"));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.NETWORK);
        assertThat(deltas).hasSize(2);
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void aConnectionDroppedBeforeAnyTokenIsRetried() throws Exception {
        server.enqueue(Behaviour.dropAfter("never seen", 2, 0), Behaviour.reply("second time lucky"));

        AgentRun run = start("hi");

        assertThat(replyOf(run)).isEqualTo("second time lucky");
        assertThat(server.requests()).hasSize(2);
    }

    @Test
    void aServerNobodyListensOnFailsWithNetwork() throws Exception {
        maxRetries = 0;
        try (ServerSocket closed = new ServerSocket(0)) {
            baseUrl = "http://127.0.0.1:" + closed.getLocalPort() + "/v1";
        }

        AgentFailure failure = failureOf(start("hi"));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.NETWORK);
        assertThat(failure.getMessage()).contains("could not connect");
    }

    @Test
    void abortMidStreamClosesTheConnectionAndCancelsTheReply() throws Exception {
        server.enqueue(Behaviour.reply("one two three four").withChunks(4).withDelays(Duration.ZERO, Duration.ofSeconds(20)));
        CompletableFuture<Void> firstDelta = new CompletableFuture<>();
        AgentRun run = backend().start(requestSignallingFirstDelta("hi", firstDelta));
        firstDelta.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);

        run.abort();

        server.requests().get(0).awaitClientClose(WAIT);
        assertThat(run.reply()).isCompletedExceptionally();
        assertThatThrownBy(() -> run.reply().join()).isInstanceOf(CancellationException.class);
        assertThat(deltas).containsExactly("one ");
        assertThat(run.steer("after the end")).isFalse();
    }

    @Test
    void abortBeforeTheHeadersClosesTheConnection() throws Exception {
        server.byDefault(Behaviour.hang());
        AgentRun run = start("hi");
        FakeOpenAiServer.Received request = server.awaitRequest(0, WAIT);

        run.abort();

        request.awaitClientClose(WAIT);
        assertThatThrownBy(() -> run.reply().join()).isInstanceOf(CancellationException.class);
    }

    @Test
    void steerMidStreamAsksAgainWithTheSteeredTextAsATrailingUserMessage() throws Exception {
        server.enqueue(Behaviour.reply("first partial answer").withChunks(3).withDelays(Duration.ZERO, Duration.ofSeconds(20)),
                Behaviour.reply("the steered answer"));
        CompletableFuture<Void> firstDelta = new CompletableFuture<>();
        AgentRun run = backend().start(requestSignallingFirstDelta("tell me a story", firstDelta));
        firstDelta.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);

        assertThat(run.steer("make it about a cat")).isTrue();

        assertThat(replyOf(run)).isEqualTo("the steered answer");
        server.requests().get(0).awaitClientClose(WAIT);
        List<String> messages = server.requests().get(1).messages();
        assertThat(messages.subList(messages.size() - 2, messages.size()))
                .containsExactly("user: tell me a story", "user: make it about a cat");
        assertThat(server.requests()).hasSize(2);
        assertThat(run.steer("too late")).isFalse();
    }

    @Test
    void everySteerIsAddedInOrder() throws Exception {
        Behaviour slow = Behaviour.reply("partial answer").withChunks(2).withDelays(Duration.ZERO, Duration.ofSeconds(20));
        server.enqueue(slow, slow, Behaviour.reply("final"));
        CompletableFuture<Void> firstDelta = new CompletableFuture<>();
        AgentRun run = backend().start(requestSignallingFirstDelta("base", firstDelta));
        firstDelta.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(run.steer("first steer")).isTrue();
        server.awaitRequest(1, WAIT);
        assertThat(run.steer("second steer")).isTrue();

        assertThat(replyOf(run)).isEqualTo("final");
        List<String> messages = server.requests().get(server.requests().size() - 1).messages();
        assertThat(messages.subList(messages.size() - 3, messages.size()))
                .containsExactly("user: base", "user: first steer", "user: second steer");
    }

    @Test
    void aServerErrorThatEchoesTheKeyIsMasked() throws Exception {
        keyEnv = "FERRY_TEST_OPENAI_KEY";
        environment.put(keyEnv, KEY);
        maxRetries = 0;
        server.byDefault(Behaviour.error(503, "overloaded").withAuthorizationEchoed());

        AgentFailure failure = failureOf(start("hi"));

        assertThat(failure.kind()).isEqualTo(AgentFailure.Kind.SERVER_ERROR);
        assertThat(failure.getMessage()).contains("503").contains("<redacted>").doesNotContain(KEY);
    }

    @Test
    void closingTheBackendAbortsItsLiveRunsAndClosesTheirConnections() throws Exception {
        server.byDefault(Behaviour.hang());
        AgentRun run = start("hi");
        FakeOpenAiServer.Received request = server.awaitRequest(0, WAIT);

        backend.close();

        request.awaitClientClose(WAIT);
        assertThatThrownBy(() -> run.reply().join()).isInstanceOf(CancellationException.class);
    }

    @Test
    void manyStreamedTurnsStartNoThreadPerTurn() throws Exception {
        OpenAiBackend shared = backend();
        replyOf(shared.start(request("warm up")));
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long before = threads.getTotalStartedThreadCount();

        int turns = 40;
        for (int i = 0; i < turns; i++) {
            assertThat(replyOf(shared.start(request("turn " + i)))).isEqualTo("hello from the fake");
        }

        // The fake server's own connection threads are counted too, and pooled: far fewer than one per turn.
        assertThat(threads.getTotalStartedThreadCount() - before).isLessThan(turns / 2);
    }
}
