package dev.ferry.testing;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A real OpenAI-compatible chat-completions server on an ephemeral loopback port, for tests: {@code POST
 * /v1/chat/completions} answered with the shapes OpenAI, vLLM and llama.cpp send — server-sent events when
 * the request says {@code stream: true} (a role chunk, optional reasoning chunks, content chunks, a
 * finish-reason chunk, a usage chunk with {@code choices: []} when {@code stream_options.include_usage}
 * asks, {@code data: [DONE]}), a whole {@code chat.completion} otherwise, and OpenAI-style error bodies.
 *
 * <p>Each request takes the next scripted {@link Behaviour} from a queue, or the default once the queue is
 * empty. Every request is recorded as {@link Received}, with a future that completes when the client
 * closed that connection before the response was complete, so a test can assert the server saw a
 * cancelled call go away. HTTP/1.1 on plain sockets, one request per connection ({@code Connection:
 * close}), chunked bodies flushed chunk by chunk, so a dropped connection is a truncated body as it would
 * be on the wire. Thread-safe: the script and the record are guarded by {@code this}; each connection
 * runs on a thread of its own, and the server's waits end early when the client goes.
 */
public final class FakeOpenAiServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern AFTER_SPACE = Pattern.compile("(?<= )");
    private static final Pattern SPACE = Pattern.compile(" ");

    /** What the server does with one request. Immutable; build from a factory and the {@code with…} methods. */
    public record Behaviour(Kind kind, String text, int chunks, Duration firstChunkDelay, Duration chunkDelay,
                            boolean keepAlives, String reasoning, boolean nullContentChunks, boolean finishChunk,
                            int promptTokens, int completionTokens, int stopAfterChunks, boolean crlf,
                            boolean splitWrites, int status, String errorMessage, String retryAfter,
                            boolean echoAuthorization) {

        public enum Kind { REPLY, ERROR, HANG, DROP_MID_STREAM, STALL_MID_STREAM }

        /** Replies {@code text}: streamed in 3 chunks when the request streams, whole otherwise. */
        public static Behaviour reply(String text) {
            return new Behaviour(Kind.REPLY, text, 3, Duration.ZERO, Duration.ZERO, false, null, false, true, 0, 0,
                    -1, false, false, 200, null, null, false);
        }

        /** Answers {@code status} with {@code {"error":{"message","type","code"}}}. */
        public static Behaviour error(int status, String message) {
            return new Behaviour(Kind.ERROR, "", 0, Duration.ZERO, Duration.ZERO, false, null, false, false, 0, 0, -1,
                    false, false, status, message, null, false);
        }

        /** Reads the request and never answers, holding the connection until the client closes it. */
        public static Behaviour hang() {
            return new Behaviour(Kind.HANG, "", 0, Duration.ZERO, Duration.ZERO, false, null, false, false, 0, 0, -1,
                    false, false, 200, null, null, false);
        }

        /** Streams the first {@code chunks} content chunks of {@code text}, then closes the socket mid-body. */
        public static Behaviour dropAfter(String text, int parts, int chunks) {
            return reply(text).withChunks(parts).withKind(Kind.DROP_MID_STREAM).withStopAfterChunks(chunks);
        }

        /** Streams the first {@code chunks} content chunks of {@code text}, then goes silent, holding the connection. */
        public static Behaviour stallAfter(String text, int parts, int chunks) {
            return reply(text).withChunks(parts).withKind(Kind.STALL_MID_STREAM).withStopAfterChunks(chunks);
        }

        public Behaviour withKind(Kind value) {
            return with(edit -> edit.kind = value);
        }

        public Behaviour withChunks(int value) {
            return with(edit -> edit.chunks = value);
        }

        public Behaviour withDelays(Duration beforeFirst, Duration between) {
            return with(edit -> {
                edit.firstChunkDelay = beforeFirst;
                edit.chunkDelay = between;
            });
        }

        /** Sends a {@code : keep-alive} comment before every event. */
        public Behaviour withKeepAlives() {
            return with(edit -> edit.keepAlives = true);
        }

        /** Thinks aloud first: {@code reasoning_content} chunks (or the message's field, when not streaming). */
        public Behaviour withReasoning(String value) {
            return with(edit -> edit.reasoning = value);
        }

        /** Sends {@code "content": null} in the role chunk and one extra empty chunk between content chunks. */
        public Behaviour withNullContentChunks() {
            return with(edit -> edit.nullContentChunks = true);
        }

        /** Reports usage: a final chunk with {@code choices: []} when streaming, the body's field otherwise. */
        public Behaviour withUsage(int prompt, int completion) {
            return with(edit -> {
                edit.promptTokens = prompt;
                edit.completionTokens = completion;
            });
        }

        Behaviour withStopAfterChunks(int value) {
            return with(edit -> edit.stopAfterChunks = value);
        }

        /** Ends event-stream lines with CRLF instead of LF. */
        public Behaviour withCrlf() {
            return with(edit -> edit.crlf = true);
        }

        /** Writes (and flushes) each event in two pieces, cut mid-line, so the client reads partial lines. */
        public Behaviour withSplitWrites() {
            return with(edit -> edit.splitWrites = true);
        }

        /** Adds a {@code Retry-After} header with this value (seconds, or an HTTP date). */
        public Behaviour withRetryAfter(String value) {
            return with(edit -> edit.retryAfter = value);
        }

        /** Puts the request's {@code Authorization} value into the error message, as a careless server might. */
        public Behaviour withAuthorizationEchoed() {
            return with(edit -> edit.echoAuthorization = true);
        }

        /** A copy with what {@code edit} changes: each {@code with…} names only its own fields. */
        private Behaviour with(Consumer<Edit> edit) {
            Edit copy = new Edit(this);
            edit.accept(copy);
            return copy.build();
        }

        /** The fields of a behaviour being copied, while one {@code with…} changes some of them. */
        private static final class Edit {
            Kind kind;
            String text;
            int chunks;
            Duration firstChunkDelay;
            Duration chunkDelay;
            boolean keepAlives;
            String reasoning;
            boolean nullContentChunks;
            boolean finishChunk;
            int promptTokens;
            int completionTokens;
            int stopAfterChunks;
            boolean crlf;
            boolean splitWrites;
            int status;
            String errorMessage;
            String retryAfter;
            boolean echoAuthorization;

            Edit(Behaviour from) {
                kind = from.kind;
                text = from.text;
                chunks = from.chunks;
                firstChunkDelay = from.firstChunkDelay;
                chunkDelay = from.chunkDelay;
                keepAlives = from.keepAlives;
                reasoning = from.reasoning;
                nullContentChunks = from.nullContentChunks;
                finishChunk = from.finishChunk;
                promptTokens = from.promptTokens;
                completionTokens = from.completionTokens;
                stopAfterChunks = from.stopAfterChunks;
                crlf = from.crlf;
                splitWrites = from.splitWrites;
                status = from.status;
                errorMessage = from.errorMessage;
                retryAfter = from.retryAfter;
                echoAuthorization = from.echoAuthorization;
            }

            Behaviour build() {
                return new Behaviour(kind, text, chunks, firstChunkDelay, chunkDelay, keepAlives, reasoning,
                        nullContentChunks, finishChunk, promptTokens, completionTokens, stopAfterChunks, crlf, splitWrites,
                        status, errorMessage, retryAfter, echoAuthorization);
            }
        }

        /** The reply text in {@link #chunks} pieces of near-equal length, in order. */
        public List<String> pieces() {
            List<String> pieces = new ArrayList<>();
            int parts = Math.max(1, Math.min(chunks, text.length()));
            int at = 0;
            for (int i = 0; i < parts; i++) {
                int end = text.length() * (i + 1) / parts;
                pieces.add(text.substring(at, end));
                at = end;
            }
            return pieces;
        }
    }

    /**
     * One request as the server saw it: headers by lower-case name, the parsed JSON body (a missing node if
     * it was not JSON), and a future completed when the client closed the connection early.
     */
    public record Received(int index, String method, String path, Map<String, String> headers, JsonNode body,
                           CompletableFuture<Void> clientClosed, long receivedAtMillis) {

        public Optional<String> header(String name) {
            return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
        }

        /** The {@code messages} as {@code role: content} strings, in order. */
        public List<String> messages() {
            List<String> messages = new ArrayList<>();
            body.path("messages").forEach(m -> messages.add(m.path("role").asText() + ": " + m.path("content").asText()));
            return messages;
        }

        /** Waits until the client closed this request's connection; fails the test after {@code timeout}. */
        public void awaitClientClose(Duration timeout) throws InterruptedException, TimeoutException {
            try {
                clientClosed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private final ServerSocket socket;
    private final ExecutorService connections = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "fake-openai-connection");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicInteger ids = new AtomicInteger();
    private final Deque<Behaviour> script = new ArrayDeque<>();
    private Behaviour fallback = Behaviour.reply("hello from the fake");
    private final List<Received> received = new ArrayList<>();
    private final List<CompletableFuture<Received>> arrivals = new ArrayList<>();
    private final List<Socket> open = new ArrayList<>();

    private FakeOpenAiServer() throws IOException {
        socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "fake-openai-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static FakeOpenAiServer start() throws IOException {
        return new FakeOpenAiServer();
    }

    /** The base URL a client is configured with, ending in {@code /v1}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + socket.getLocalPort() + "/v1";
    }

    /** Queues behaviours for the next requests, in order. */
    public synchronized FakeOpenAiServer enqueue(Behaviour... behaviours) {
        script.addAll(List.of(behaviours));
        return this;
    }

    /** What every request gets once the queue is empty. */
    public synchronized FakeOpenAiServer byDefault(Behaviour behaviour) {
        fallback = behaviour;
        return this;
    }

    /** Every request so far, in arrival order. */
    public synchronized List<Received> requests() {
        return List.copyOf(received);
    }

    /** The request numbered {@code index} (from 0), once it has arrived; fails the test after {@code timeout}. */
    public Received awaitRequest(int index, Duration timeout) throws InterruptedException, TimeoutException {
        try {
            return arrival(index).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    private synchronized CompletableFuture<Received> arrival(int index) {
        while (arrivals.size() <= index) {
            arrivals.add(new CompletableFuture<>());
        }
        return arrivals.get(index);
    }

    private synchronized Behaviour next() {
        return script.isEmpty() ? fallback : script.poll();
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                synchronized (this) {
                    open.add(client);
                }
                connections.execute(() -> serve(client));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            Request request = Request.read(in);
            if (request == null) {
                return;
            }
            Connection connection = new Connection(client, in);
            Received seen = record(request, connection.clientClosed);
            connection.watchForClose();
            OutputStream out = new BufferedOutputStream(client.getOutputStream());
            if (!request.method.equals("POST") || !request.path.equals("/v1/chat/completions")) {
                writeError(out, connection, 404, "Unknown request URL: " + request.method + " " + request.path, null);
                return;
            }
            answer(next(), seen, out, connection);
        } catch (IOException gone) {
            // The client went away mid-write: recorded by the watcher.
        } catch (InterruptedException stopping) {
            Thread.currentThread().interrupt();
        } finally {
            synchronized (this) {
                open.remove(client);
            }
        }
    }

    private Received record(Request request, CompletableFuture<Void> clientClosed) {
        JsonNode body;
        try {
            body = JSON.readTree(request.body);
            if (body == null) {
                body = JSON.missingNode();
            }
        } catch (IOException notJson) {
            body = JSON.missingNode();
        }
        Received seen;
        synchronized (this) {
            seen = new Received(received.size(), request.method, request.path, Map.copyOf(request.headers), body,
                    clientClosed, System.currentTimeMillis());
            received.add(seen);
        }
        arrival(seen.index()).complete(seen);
        return seen;
    }

    private void answer(Behaviour behaviour, Received request, OutputStream out, Connection connection)
            throws IOException, InterruptedException {
        switch (behaviour.kind()) {
            case ERROR -> {
                String message = behaviour.errorMessage();
                if (behaviour.echoAuthorization()) {
                    message = message + " (you sent: " + request.header("authorization").orElse("nothing") + ")";
                }
                writeError(out, connection, behaviour.status(), message, behaviour.retryAfter());
            }
            case HANG -> connection.clientClosed.join();
            default -> {
                if (request.body().path("stream").asBoolean(false)) {
                    stream(behaviour, request, out, connection);
                } else {
                    if (connection.waitOrClosed(behaviour.firstChunkDelay())) {
                        return;
                    }
                    writeWhole(out, connection, completion(behaviour, request));
                }
            }
        }
    }

    private void stream(Behaviour behaviour, Received request, OutputStream out, Connection connection)
            throws IOException, InterruptedException {
        String head = String.join("\r\n", "HTTP/1.1 200 OK", "Content-Type: text/event-stream", "Cache-Control: no-cache",
                "Transfer-Encoding: chunked", "Connection: close", "", "");
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String model = request.body().path("model").asText("fake-model");
        String id = "chatcmpl-fake-" + ids.incrementAndGet();
        EventWriter events = new EventWriter(out, behaviour);
        if (connection.waitOrClosed(behaviour.firstChunkDelay())) {
            return;
        }
        ObjectNode role = JSON.createObjectNode().put("role", "assistant");
        if (behaviour.nullContentChunks()) {
            role.putNull("content");
        } else {
            role.put("content", "");
        }
        events.data(chunk(id, model, role, null));
        if (behaviour.reasoning() != null) {
            for (String word : AFTER_SPACE.splitAsStream(behaviour.reasoning()).toList()) {
                events.data(chunk(id, model, JSON.createObjectNode().put("reasoning_content", word), null));
            }
        }
        List<String> pieces = behaviour.pieces();
        for (int i = 0; i < pieces.size(); i++) {
            if (i == behaviour.stopAfterChunks()) {
                if (behaviour.kind() == Behaviour.Kind.DROP_MID_STREAM) {
                    connection.dropByServer();
                } else {
                    connection.clientClosed.join();
                }
                return;
            }
            if (i > 0 && connection.waitOrClosed(behaviour.chunkDelay())) {
                return;
            }
            if (behaviour.nullContentChunks() && i > 0) {
                events.data(chunk(id, model, JSON.createObjectNode().putNull("content"), null));
            }
            events.data(chunk(id, model, JSON.createObjectNode().put("content", pieces.get(i)), null));
        }
        if (behaviour.finishChunk()) {
            events.data(chunk(id, model, JSON.createObjectNode(), "stop"));
        }
        if (request.body().path("stream_options").path("include_usage").asBoolean(false) && behaviour.promptTokens() > 0) {
            ObjectNode usage = base(id, model, "chat.completion.chunk");
            usage.putArray("choices");
            usage.set("usage", usage(behaviour));
            events.data(usage.toString());
        }
        events.data("[DONE]");
        connection.completing();
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static String chunk(String id, String model, ObjectNode delta, String finishReason) {
        ObjectNode chunk = base(id, model, "chat.completion.chunk");
        ObjectNode choice = chunk.putArray("choices").addObject();
        choice.put("index", 0);
        choice.set("delta", delta);
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason);
        }
        return chunk.toString();
    }

    private static ObjectNode base(String id, String model, String object) {
        return JSON.createObjectNode().put("id", id).put("object", object).put("created", 1_700_000_000L).put("model", model);
    }

    private static ObjectNode usage(Behaviour behaviour) {
        return JSON.createObjectNode().put("prompt_tokens", behaviour.promptTokens())
                .put("completion_tokens", behaviour.completionTokens())
                .put("total_tokens", behaviour.promptTokens() + behaviour.completionTokens());
    }

    private String completion(Behaviour behaviour, Received request) {
        ObjectNode body = base("chatcmpl-fake-" + ids.incrementAndGet(), request.body().path("model").asText("fake-model"),
                "chat.completion");
        ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
        ObjectNode message = choice.putObject("message").put("role", "assistant").put("content", behaviour.text());
        if (behaviour.reasoning() != null) {
            message.put("reasoning_content", behaviour.reasoning());
        }
        choice.put("finish_reason", "stop");
        if (behaviour.promptTokens() > 0) {
            body.set("usage", usage(behaviour));
        }
        return body.toString();
    }

    private static void writeError(OutputStream out, Connection connection, int status, String message, String retryAfter)
            throws IOException {
        ObjectNode body = JSON.createObjectNode();
        String type = status == 429 ? "rate_limit_exceeded" : status / 100 == 5 ? "server_error" : "invalid_request_error";
        ObjectNode error = body.putObject("error").put("message", message).put("type", type);
        if (status == 401) {
            error.put("code", "invalid_api_key");
        } else if (status == 404) {
            error.put("code", "model_not_found");
        } else {
            error.putNull("code");
        }
        String extra = retryAfter == null ? "" : "Retry-After: " + retryAfter + "\r\n";
        writeResponse(out, connection, status, extra, body.toString());
    }

    private static void writeWhole(OutputStream out, Connection connection, String json) throws IOException {
        writeResponse(out, connection, 200, "", json);
    }

    private static void writeResponse(OutputStream out, Connection connection, int status, String extraHeaders, String json)
            throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reason(status) + "\r\nContent-Type: application/json\r\nContent-Length: "
                + bytes.length + "\r\nConnection: close\r\n" + extraHeaders + "\r\n";
        connection.completing();
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }

    @Override
    public void close() throws IOException {
        socket.close();
        synchronized (this) {
            for (Socket client : open) {
                client.close();
            }
        }
        connections.shutdownNow();
    }

    /** Writes server-sent events as HTTP chunks, flushed one by one. Confined to the connection's thread. */
    private static final class EventWriter {
        private final OutputStream out;
        private final Behaviour behaviour;
        private final String eol;

        EventWriter(OutputStream out, Behaviour behaviour) {
            this.out = out;
            this.behaviour = behaviour;
            this.eol = behaviour.crlf() ? "\r\n" : "\n";
        }

        void data(String data) throws IOException {
            if (behaviour.keepAlives()) {
                write(": keep-alive" + eol + eol);
            }
            String event = "data: " + data + eol + eol;
            if (behaviour.splitWrites()) {
                int cut = event.length() / 2;
                write(event.substring(0, cut));
                write(event.substring(cut));
            } else {
                write(event);
            }
        }

        private void write(String text) throws IOException {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            out.write((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
    }

    /**
     * One client connection: a watcher thread reads from it after the request, which returns only when the
     * client closes it (one request per connection, so nothing else arrives), and completes
     * {@link #clientClosed} unless the server had already finished or dropped the response.
     */
    private final class Connection {
        final CompletableFuture<Void> clientClosed = new CompletableFuture<>();
        private final Socket client;
        private final InputStream in;
        private volatile boolean serverDone;

        Connection(Socket client, InputStream in) {
            this.client = client;
            this.in = in;
        }

        void watchForClose() {
            connections.execute(() -> {
                try {
                    while (in.read() >= 0) {
                        // A well-behaved client sends nothing more; anything it does is ignored.
                    }
                } catch (IOException closed) {
                    // Reset by the client or closed by us: told apart by serverDone below.
                }
                if (!serverDone) {
                    clientClosed.complete(null);
                }
            });
        }

        /** The response is about to be complete: a close from here on is the ordinary end. */
        void completing() {
            serverDone = true;
        }

        void dropByServer() throws IOException {
            serverDone = true;
            client.setSoLinger(true, 0);
            client.close();
        }

        /** Waits {@code delay} unless the client closes first; says whether it did. */
        boolean waitOrClosed(Duration delay) throws InterruptedException {
            if (delay.isZero() || delay.isNegative()) {
                return clientClosed.isDone();
            }
            try {
                clientClosed.get(delay.toMillis(), TimeUnit.MILLISECONDS);
                return true;
            } catch (TimeoutException stillThere) {
                return false;
            } catch (ExecutionException impossible) {
                return true;
            }
        }
    }

    /** A request's line, headers and body, read from the socket. */
    private record Request(String method, String path, Map<String, String> headers, String body) {

        static Request read(InputStream in) throws IOException {
            String line = readLine(in);
            if (line == null || line.isEmpty()) {
                return null;
            }
            List<String> parts = SPACE.splitAsStream(line).toList();
            Map<String, String> headers = new LinkedHashMap<>();
            for (String header = readLine(in); header != null && !header.isEmpty(); header = readLine(in)) {
                int colon = header.indexOf(':');
                if (colon > 0) {
                    headers.put(header.substring(0, colon).strip().toLowerCase(Locale.ROOT), header.substring(colon + 1).strip());
                }
            }
            int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
            byte[] body = in.readNBytes(length);
            return new Request(parts.get(0), parts.size() > 1 ? parts.get(1) : "/", headers, new String(body, StandardCharsets.UTF_8));
        }

        private static String readLine(InputStream in) throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b = in.read(); b >= 0; b = in.read()) {
                if (b == '\n') {
                    String text = line.toString(StandardCharsets.ISO_8859_1);
                    return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
                }
                line.write(b);
            }
            return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
        }
    }

}
