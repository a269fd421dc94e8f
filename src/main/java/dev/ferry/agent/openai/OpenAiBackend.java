package dev.ferry.agent.openai;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.AgentRequest;
import dev.ferry.agent.AgentRun;
import dev.ferry.agent.BackendContext;
import dev.ferry.config.AgentConfig;
import dev.ferry.config.OpenAiConfig;

/**
 * The {@code openai} backend: any OpenAI-compatible chat-completions server ({@code POST
 * {baseUrl}/chat/completions}), streamed over server-sent events or answered whole. Each turn is one
 * {@link OpenAiRun}; this class holds what the runs share: one HTTP client with its own small executor,
 * the API key and the meters. No thread is held per turn: bodies are read by a non-blocking subscriber
 * and every timer is on the context's scheduler. Thread-safe; {@link #close} aborts the runs still live.
 */
public final class OpenAiBackend implements AgentBackend {

    /** Two threads serve every turn's HTTP work: a body's bytes are parsed as they come, nothing blocks on them. */
    private static final int HTTP_THREADS = 2;
    private static final String REDACTED = "<redacted>";

    private final OpenAiConfig config;
    private final BackendContext context;
    private final URI endpoint;
    /** Empty when {@code apiKeyEnv} is unset or names no variable: a local server needs no key. */
    private final Optional<String> apiKey;
    private final ExecutorService executor;
    private final HttpClient http;
    private final OpenAiMetrics metrics;
    /** The runs not yet finished, so that closing the backend leaves no call open. */
    private final Set<OpenAiRun> live = ConcurrentHashMap.newKeySet();

    public OpenAiBackend(AgentConfig config, BackendContext context) {
        this(config.openai(), context);
    }

    public OpenAiBackend(OpenAiConfig config, BackendContext context) {
        this.config = config;
        this.context = context;
        this.endpoint = endpointOf(config.baseUrl());
        this.apiKey = keyOf(config.apiKeyEnv(), context);
        this.executor = newExecutor();
        // HTTP/1.1: every server of this kind speaks it, and on a plain http URL an HTTP/2 client would
        // send an h2c upgrade that some of them answer badly.
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofMillis(config.connectTimeoutMs()))
                .executor(executor)
                .build();
        this.metrics = new OpenAiMetrics(context.metrics());
    }

    private static URI endpointOf(String baseUrl) {
        if (baseUrl == null || baseUrl.isBlank()) {
            throw new IllegalArgumentException("agent.openai.baseUrl: must be set for the openai backend");
        }
        String base = baseUrl.strip();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        try {
            URI uri = URI.create(base + "/chat/completions");
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
                throw new IllegalArgumentException("agent.openai.baseUrl: must be an http or https URL, got " + baseUrl);
            }
            return uri;
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("agent.openai.baseUrl")) {
                throw e;
            }
            throw new IllegalArgumentException("agent.openai.baseUrl: not a URL: " + baseUrl, e);
        }
    }

    private static Optional<String> keyOf(String apiKeyEnv, BackendContext context) {
        if (apiKeyEnv == null || apiKeyEnv.isBlank()) {
            return Optional.empty();
        }
        String key = context.environment().apply(apiKeyEnv);
        return key == null || key.isBlank() ? Optional.empty() : Optional.of(key.strip());
    }

    private static ExecutorService newExecutor() {
        AtomicInteger count = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(HTTP_THREADS, HTTP_THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), runnable -> {
                    Thread thread = new Thread(runnable, "ferry-openai-http-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    @Override
    public String name() {
        return "openai";
    }

    @Override
    public AgentRun start(AgentRequest request) {
        OpenAiRun[] made = new OpenAiRun[1];
        OpenAiRun run = new OpenAiRun(this, request, () -> live.remove(made[0]));
        made[0] = run;
        live.add(run);
        run.start();
        return run;
    }

    /** Aborts every live run, then lets the client's threads go. */
    @Override
    public void close() {
        for (OpenAiRun run : live) {
            run.abort();
        }
        executor.shutdown();
    }

    OpenAiConfig config() {
        return config;
    }

    BackendContext context() {
        return context;
    }

    HttpClient http() {
        return http;
    }

    ExecutorService executor() {
        return executor;
    }

    OpenAiMetrics metrics() {
        return metrics;
    }

    /** The request for one call with {@code body}; the key goes only in its header. */
    HttpRequest request(byte[] body) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(endpoint)
                .header("Content-Type", "application/json")
                .header("Accept", config.stream() ? "text/event-stream" : "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        apiKey.ifPresent(key -> builder.header("Authorization", "Bearer " + key));
        return builder.build();
    }

    /** {@code text} with the API key masked, for a server that echoes what it was sent. */
    String masked(String text) {
        if (text == null || apiKey.isEmpty()) {
            return text;
        }
        return text.replace(apiKey.get(), REDACTED);
    }
}
