package dev.ferry.agent.openai;

import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import dev.ferry.agent.AgentFailure;
import dev.ferry.agent.AgentFailure.Kind;
import dev.ferry.agent.AgentRequest;
import dev.ferry.agent.AgentRun;
import dev.ferry.config.OpenAiConfig;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.time.Scheduler;

/**
 * One turn on an OpenAI-compatible server: one or more HTTP calls (a retry after a 429, a 5xx or a
 * broken connection before any token; a restart after a steer) until the reply is whole, a failure is
 * final, or the turn is aborted. The reply future completes exactly once.
 *
 * <p>The run is a state machine in {@link #state}: {@code CALLING} (a request is out, no body yet),
 * {@code STREAMING} (a 2xx body is being read), {@code BACKING_OFF} (a retry timer is set) and
 * {@code DONE}. Each HTTP call has a number, {@link #call}; every signal from the client and every
 * timer carries the number of the call it belongs to and is ignored once that call is superseded, so a
 * cancelled call's late bytes never reach the observer. One watchdog timer per call enforces the
 * first-token and between-chunks timeouts: it fires at the deadline it last computed and re-arms itself
 * when activity moved the deadline, so a chunk costs no timer of its own.
 *
 * <p>Thread-safe; all state is guarded by {@link #lock}. Nothing foreign runs under that lock: deltas
 * go to the observer, the reply is completed and HTTP calls are cancelled after it is released (as
 * {@link Effects}), because the turn scheduler calls {@link #steer} holding its own lock and completes
 * turns by taking it. Deltas of one call reach the observer in order, since a body's signals are
 * serialised; a delta already handed on when {@link #abort} takes the lock may still arrive, and nothing
 * decided after it does. Timers hand their work to the backend's executor, never running it on the
 * scheduler's thread.
 *
 * <p>Not streaming, a call has no first-token or between-chunks watchdog (the answer comes whole at the
 * end): the turn's timeout alone bounds it. A steer is taken only while streaming.
 */
final class OpenAiRun implements AgentRun {
    private static final Logger log = LoggerFactory.getLogger(OpenAiRun.class);

    private enum State { CALLING, STREAMING, BACKING_OFF, DONE }

    static final Duration MAX_BACKOFF = Duration.ofSeconds(8);
    /** Between attempts a server asked no wait for: 500 ms, doubling, at most {@link #MAX_BACKOFF}. */
    private static final RetryPolicy BACKOFF = new RetryPolicy(Duration.ofMillis(500), MAX_BACKOFF);
    /** Enough of an error body to say why; a longer one is not read. */
    private static final int ERROR_BODY_BYTES = 4096;
    /** A whole completion larger than this is refused rather than held. */
    private static final int COMPLETION_BODY_BYTES = 16 * 1024 * 1024;
    private static final int REASON_CHARS = 200;
    private static final String DONE_MARKER = "[DONE]";

    private final OpenAiBackend backend;
    private final OpenAiConfig config;
    private final AgentRequest request;
    private final Runnable onEnd;
    private final Scheduler scheduler;
    private final CompletableFuture<String> reply = new CompletableFuture<>();
    private final Object lock = new Object();

    @GuardedBy("lock")
    private State state = State.CALLING;
    /** The number of the current HTTP call, from 1. */
    @GuardedBy("lock")
    private int call;
    @GuardedBy("lock")
    private int retries;
    @GuardedBy("lock")
    private final List<String> steered = new ArrayList<>();
    @GuardedBy("lock")
    private CompletableFuture<HttpResponse<String>> exchange;
    @GuardedBy("lock")
    private Flow.Subscription subscription;
    /** The current call's reply text so far; a steer or retry starts it again. */
    @GuardedBy("lock")
    private final StringBuilder text = new StringBuilder();
    @GuardedBy("lock")
    private long startedAt;
    @GuardedBy("lock")
    private long callStartedAt;
    @GuardedBy("lock")
    private long lastHeardAt;
    @GuardedBy("lock")
    private boolean heardToken;
    @GuardedBy("lock")
    private boolean finishReasonSeen;
    /** The reply is whole by the current call's {@code [DONE]}, and its body is read to the end rather than cut. */
    @GuardedBy("lock")
    private boolean drainingAfterDone;
    @GuardedBy("lock")
    private Optional<ChunkReader.Usage> usage = Optional.empty();
    @GuardedBy("lock")
    private Scheduler.Cancellable watchdog = () -> {};
    @GuardedBy("lock")
    private Scheduler.Cancellable retryTimer = () -> {};
    @GuardedBy("lock")
    private Scheduler.Cancellable turnTimer = () -> {};

    /** @param onEnd told once, after the reply completed, so the backend forgets the run */
    OpenAiRun(OpenAiBackend backend, AgentRequest request, Runnable onEnd) {
        this.backend = backend;
        this.onEnd = onEnd;
        this.config = backend.config();
        this.request = request;
        this.scheduler = backend.context().scheduler();
    }

    @Override
    public CompletableFuture<String> reply() {
        return reply;
    }

    void start() {
        Effects effects = new Effects();
        synchronized (lock) {
            startedAt = scheduler.nowMillis();
            turnTimer = scheduler.schedule(Duration.ofMillis(config.timeoutMs()), () -> offTimer(this::onTurnTimeout));
            callLocked(effects);
        }
        effects.apply();
    }

    @Override
    public boolean steer(String text) {
        Effects effects = new Effects();
        synchronized (lock) {
            if (!config.stream() || state == State.DONE) {
                return false;
            }
            steered.add(text);
            if (state != State.BACKING_OFF) {
                // The partial answer was to a context without this text: drop it and ask again.
                cancelCallLocked(effects);
                callLocked(effects);
                effects.restarted = true;
            }
        }
        effects.apply();
        return true;
    }

    @Override
    public void abort() {
        Effects effects = new Effects();
        synchronized (lock) {
            if (state == State.DONE) {
                return;
            }
            endLocked(effects);
            effects.failure = new CancellationException("turn aborted");
        }
        effects.apply();
    }

    // ---- calls ----

    @GuardedBy("lock")
    private void callLocked(Effects effects) {
        call++;
        int thisCall = call;
        state = State.CALLING;
        text.setLength(0);
        heardToken = false;
        finishReasonSeen = false;
        usage = Optional.empty();
        callStartedAt = scheduler.nowMillis();
        lastHeardAt = callStartedAt;
        byte[] body = ChatCompletionRequest.body(config, request, steered);
        CompletableFuture<HttpResponse<String>> sent;
        try {
            sent = backend.http().sendAsync(backend.request(body), info -> bodyFor(thisCall, info));
        } catch (RuntimeException refused) {
            // The client takes no more work (its backend was closed) or cannot form the request.
            failLocked(effects, Kind.NETWORK, "the model call could not be sent: " + refused.getClass().getSimpleName());
            return;
        }
        exchange = sent;
        // Our executor, not the common pool's thread-per-task fallback; the stage's result carries nothing.
        var unused = sent.whenCompleteAsync((response, error) -> onResponse(thisCall, response, error), backend.executor());
        if (config.stream()) {
            armWatchdogLocked(thisCall, Duration.ofMillis(config.firstTokenTimeoutMs()));
        }
    }

    /** Stops the current call so the server sees its connection close; its late signals are then stale. */
    @GuardedBy("lock")
    private void cancelCallLocked(Effects effects) {
        watchdog.cancel();
        retryTimer.cancel();
        effects.cancel(exchange, subscription);
        exchange = null;
        subscription = null;
    }

    @GuardedBy("lock")
    private void endLocked(Effects effects) {
        cancelCallLocked(effects);
        turnTimer.cancel();
        state = State.DONE;
    }

    private HttpResponse.BodySubscriber<String> bodyFor(int thisCall, HttpResponse.ResponseInfo info) {
        int status = info.statusCode();
        if (status / 100 != 2) {
            return new CappedBody(ERROR_BODY_BYTES);
        }
        return streams(info.headers()) ? new StreamBody(thisCall) : new CappedBody(COMPLETION_BODY_BYTES);
    }

    /**
     * Whether a 2xx answer is an event stream: asked for, and not a whole JSON completion instead, which
     * some servers send when they do not stream (or not for this model).
     */
    private boolean streams(HttpHeaders headers) {
        String type = headers.firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
        return config.stream() && !type.startsWith("application/json");
    }

    private void onResponse(int thisCall, HttpResponse<String> response, Throwable error) {
        Effects effects = new Effects();
        synchronized (lock) {
            // A call that a retry, steer or end cancelled completes with our own cancellation: not news.
            // Its body may have broken and scheduled the retry before its response future completed.
            if (!isCurrentLocked(thisCall)) {
                return;
            }
            if (error != null) {
                onCallErrorLocked(effects, unwrap(error));
            } else if (response.statusCode() / 100 != 2) {
                onRefusalLocked(effects, response);
            } else if (!streams(response.headers())) {
                onCompletionLocked(effects, response.body());
            }
            // A 2xx stream is driven by its body's signals.
        }
        effects.apply();
    }

    @GuardedBy("lock")
    private void onCallErrorLocked(Effects effects, Throwable error) {
        if (error instanceof HttpConnectTimeoutException) {
            retryOrFailLocked(effects, Kind.TIMEOUT, "could not connect to the model server within "
                    + seconds(config.connectTimeoutMs()), Optional.empty());
        } else if (error instanceof ConnectException) {
            retryOrFailLocked(effects, Kind.NETWORK, "could not connect to the model server", Optional.empty());
        } else if (error instanceof IOException) {
            retryOrFailLocked(effects, Kind.NETWORK, "the connection to the model server broke before a reply ("
                    + error.getClass().getSimpleName() + ")", Optional.empty());
        } else {
            failLocked(effects, Kind.PROTOCOL, "the model call failed: " + error.getClass().getSimpleName());
        }
    }

    @GuardedBy("lock")
    private void onRefusalLocked(Effects effects, HttpResponse<String> response) {
        int status = response.statusCode();
        String body = response.body() == null ? "" : response.body().replace(CappedBody.TRUNCATED, "");
        String said = ChunkReader.errorMessage(body).orElse(body);
        String reason = "HTTP " + status + summary(backend.masked(said));
        Optional<Duration> retryAfter = RetryAfter.parse(response.headers().firstValue("Retry-After").orElse(null),
                backend.context().wallClock());
        if (status == 429) {
            retryOrFailLocked(effects, Kind.RATE_LIMITED, "rate limited: " + reason, retryAfter);
        } else if (status / 100 == 5) {
            retryOrFailLocked(effects, Kind.SERVER_ERROR, "model server error: " + reason, retryAfter);
        } else if (status == 401 || status == 403) {
            failLocked(effects, Kind.UNAUTHORIZED, "the model server refused the credentials: " + reason);
        } else if (status == 404) {
            failLocked(effects, Kind.NOT_FOUND, "no such model or endpoint: " + reason);
        } else {
            failLocked(effects, Kind.REFUSED, "the model server refused the request: " + reason);
        }
    }

    @GuardedBy("lock")
    private void onCompletionLocked(Effects effects, String body) {
        if (body.endsWith(CappedBody.TRUNCATED)) {
            failLocked(effects, Kind.PROTOCOL, "the completion is larger than " + COMPLETION_BODY_BYTES + " bytes");
            return;
        }
        ChunkReader.Completion completion;
        try {
            completion = ChunkReader.completion(body);
        } catch (IOException e) {
            failLocked(effects, Kind.PROTOCOL, "the completion could not be read: " + summary(e.getMessage()));
            return;
        }
        backend.metrics().recordFirstToken(scheduler.nowMillis() - callStartedAt);
        usage = completion.usage();
        text.append(completion.content());
        succeedLocked(effects);
    }

    /** Retries after the server's advice or our backoff while retries remain; otherwise the failure is final. */
    @GuardedBy("lock")
    private void retryOrFailLocked(Effects effects, Kind kind, String message, Optional<Duration> retryAfter) {
        if (retries >= config.maxRetries()) {
            failLocked(effects, kind, message + (retries > 0 ? " (after " + retries + " retries)" : ""));
            return;
        }
        retries++;
        cancelCallLocked(effects);
        state = State.BACKING_OFF;
        int retryOf = call;
        Duration wait = retryAfter.orElseGet(() -> backoff(retries));
        log.info("model call retry backend=openai kind={} retry={} of={} waitMs={} reason=\"{}\"", kind.wireName(), retries,
                config.maxRetries(), wait.toMillis(), backend.masked(message));
        retryTimer = scheduler.schedule(wait, () -> offTimer(() -> onRetryDue(retryOf)));
    }

    static Duration backoff(int retry) {
        return BACKOFF.delayAfter(retry);
    }

    private void onRetryDue(int retryOf) {
        Effects effects = new Effects();
        synchronized (lock) {
            if (retryOf != call || state != State.BACKING_OFF) {
                return;
            }
            callLocked(effects);
        }
        effects.apply();
    }

    @GuardedBy("lock")
    private void failLocked(Effects effects, Kind kind, String message) {
        endLocked(effects);
        backend.metrics().countError(kind);
        effects.failure = new AgentFailure(kind, backend.masked(message));
    }

    @GuardedBy("lock")
    private void succeedLocked(Effects effects) {
        endLocked(effects);
        backend.metrics().recordLatency(scheduler.nowMillis() - startedAt);
        usage.ifPresent(backend.metrics()::countTokens);
        effects.reply = text.toString();
    }

    // ---- timers ----

    /**
     * Runs a timer's work on the backend's executor: it completes the reply, and what the turn scheduler
     * then does (a journal write) must not hold up the scheduler's shared timer thread.
     */
    private void offTimer(Runnable work) {
        try {
            backend.executor().execute(work);
        } catch (RejectedExecutionException closed) {
            // The backend is closed, and close() aborted every live run: nothing is left to time out.
        }
    }

    @GuardedBy("lock")
    private void armWatchdogLocked(int thisCall, Duration in) {
        watchdog = scheduler.schedule(in, () -> offTimer(() -> onWatchdog(thisCall)));
    }

    private void onWatchdog(int thisCall) {
        Effects effects = new Effects();
        synchronized (lock) {
            if (thisCall != call || state == State.DONE || state == State.BACKING_OFF) {
                return;
            }
            long now = scheduler.nowMillis();
            long deadline = heardToken ? lastHeardAt + config.idleTimeoutMs() : callStartedAt + config.firstTokenTimeoutMs();
            if (now < deadline) {
                armWatchdogLocked(thisCall, Duration.ofMillis(deadline - now));
            } else if (heardToken) {
                failLocked(effects, Kind.TIMEOUT, "the model server went silent mid-reply for "
                        + seconds(config.idleTimeoutMs()));
            } else {
                failLocked(effects, Kind.TIMEOUT, "no first token after " + seconds(config.firstTokenTimeoutMs()));
            }
        }
        effects.apply();
    }

    private void onTurnTimeout() {
        Effects effects = new Effects();
        synchronized (lock) {
            if (state == State.DONE) {
                return;
            }
            failLocked(effects, Kind.TIMEOUT, "no whole reply within " + seconds(config.timeoutMs()));
        }
        effects.apply();
    }

    // ---- the streamed body ----

    @GuardedBy("lock")
    private boolean isCurrentLocked(int thisCall) {
        return thisCall == call && state != State.DONE && state != State.BACKING_OFF;
    }

    private boolean onStreamOpened(int thisCall, Flow.Subscription opened) {
        synchronized (lock) {
            if (!isCurrentLocked(thisCall)) {
                return false;
            }
            subscription = opened;
            state = State.STREAMING;
            return true;
        }
    }

    /** Handles a read's events; says whether to keep reading this body. */
    private boolean onEvents(int thisCall, List<String> events) {
        Effects effects = new Effects();
        boolean keepReading;
        synchronized (lock) {
            if (thisCall != call) {
                return false;
            }
            if (state == State.DONE) {
                // Read to its end after [DONE], the body leaves its connection reusable; anything else stops.
                return drainingAfterDone;
            }
            lastHeardAt = scheduler.nowMillis();
            for (String data : events) {
                onEventLocked(effects, data);
                if (state == State.DONE || state == State.BACKING_OFF) {
                    break;
                }
            }
            keepReading = state == State.STREAMING || drainingAfterDone;
        }
        effects.apply();
        return keepReading;
    }

    @GuardedBy("lock")
    private void onEventLocked(Effects effects, String data) {
        if (data.strip().equals(DONE_MARKER)) {
            Flow.Subscription reading = subscription;
            subscription = null;
            succeedLocked(effects);
            subscription = reading;
            drainingAfterDone = true;
            return;
        }
        ChunkReader.Chunk chunk;
        try {
            chunk = ChunkReader.chunk(data);
        } catch (IOException e) {
            failLocked(effects, Kind.PROTOCOL, "a stream chunk could not be read as JSON");
            return;
        }
        if (chunk.error().isPresent()) {
            String message = "the model server failed mid-stream: " + summary(backend.masked(chunk.error().get()));
            if (heardToken) {
                failLocked(effects, Kind.SERVER_ERROR, message);
            } else {
                retryOrFailLocked(effects, Kind.SERVER_ERROR, message, Optional.empty());
            }
            return;
        }
        if (!chunk.content().isEmpty()) {
            if (!heardToken) {
                heardToken = true;
                backend.metrics().recordFirstToken(scheduler.nowMillis() - callStartedAt);
            }
            text.append(chunk.content());
            effects.deltas.add(chunk.content());
        }
        if (chunk.finishReason().isPresent()) {
            finishReasonSeen = true;
        }
        if (chunk.usage().isPresent()) {
            usage = chunk.usage();
        }
    }

    private void onStreamBroken(int thisCall, Throwable error) {
        Effects effects = new Effects();
        synchronized (lock) {
            if (!isCurrentLocked(thisCall)) {
                return;
            }
            String why = " (" + unwrap(error).getClass().getSimpleName() + ")";
            if (heardToken) {
                failLocked(effects, Kind.NETWORK, "the connection to the model server broke mid-reply" + why);
            } else {
                retryOrFailLocked(effects, Kind.NETWORK, "the connection to the model server broke before a reply" + why,
                        Optional.empty());
            }
        }
        effects.apply();
    }

    private void onStreamEnded(int thisCall) {
        Effects effects = new Effects();
        synchronized (lock) {
            if (!isCurrentLocked(thisCall)) {
                return;
            }
            if (finishReasonSeen) {
                // A server that ends its stream without [DONE] has still said it finished.
                succeedLocked(effects);
            } else if (heardToken) {
                failLocked(effects, Kind.NETWORK, "the model server ended the stream mid-reply");
            } else {
                retryOrFailLocked(effects, Kind.NETWORK, "the model server ended the stream without a reply",
                        Optional.empty());
            }
        }
        effects.apply();
    }

    /**
     * Reads one call's event stream as it arrives, never blocking a thread. Its body completes at once,
     * so the call's response future completes with the headers, and the run is driven by the signals.
     * The client signals one at a time, so {@link #events} and {@link #opened} need no lock.
     */
    private final class StreamBody implements HttpResponse.BodySubscriber<String> {
        private final int thisCall;
        private final List<String> pending = new ArrayList<>();
        private final EventStreamReader events = new EventStreamReader(pending::add);
        private Flow.Subscription opened;

        StreamBody(int thisCall) {
            this.thisCall = thisCall;
        }

        @Override
        public CompletionStage<String> getBody() {
            return CompletableFuture.completedFuture("");
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            opened = subscription;
            if (onStreamOpened(thisCall, subscription)) {
                subscription.request(1);
            } else {
                subscription.cancel();
            }
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            try {
                for (ByteBuffer item : items) {
                    events.feed(item);
                }
            } catch (IllegalStateException tooLong) {
                opened.cancel();
                onStreamBroken(thisCall, new IOException(tooLong.getMessage()));
                return;
            }
            List<String> ready = List.copyOf(pending);
            pending.clear();
            if (onEvents(thisCall, ready)) {
                opened.request(1);
            } else {
                opened.cancel();
            }
        }

        @Override
        public void onError(Throwable error) {
            onStreamBroken(thisCall, error);
        }

        @Override
        public void onComplete() {
            events.finish();
            List<String> ready = List.copyOf(pending);
            pending.clear();
            if (!ready.isEmpty()) {
                onEvents(thisCall, ready);
            }
            onStreamEnded(thisCall);
        }
    }

    /**
     * What a locked step decided and must do once the lock is released: cancel a call, hand deltas to
     * the observer, complete the reply. Confined to the thread that made it.
     */
    private final class Effects {
        final List<String> deltas = new ArrayList<>();
        final List<Runnable> cancels = new ArrayList<>();
        String reply;
        Throwable failure;
        /** Whether the observer is told the pieces it heard are void. */
        boolean restarted;

        void cancel(CompletableFuture<?> exchange, Flow.Subscription subscription) {
            if (subscription != null) {
                cancels.add(subscription::cancel);
            }
            if (exchange != null) {
                // Before the headers this aborts the request; after them it is harmless.
                cancels.add(() -> exchange.cancel(true));
            }
        }

        void apply() {
            cancels.forEach(Runnable::run);
            if (restarted) {
                request.observer().onRestart();
            }
            deltas.forEach(request.observer()::onText);
            boolean ended = false;
            if (reply != null) {
                ended = OpenAiRun.this.reply.complete(reply);
            } else if (failure != null) {
                ended = OpenAiRun.this.reply.completeExceptionally(failure);
            }
            if (ended) {
                onEnd.run();
            }
        }
    }

    // ---- wording ----

    /** The exception that says what happened, under the client's wrappers (a completion, a bare IOException around the real one). */
    private static Throwable unwrap(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && (cause instanceof CompletionException
                || (cause.getClass() == IOException.class && cause.getCause() instanceof IOException))) {
            cause = cause.getCause();
        }
        return cause;
    }

    /** The server's words on one line, cut short, with a leading {@code ": "}; empty when it said nothing. */
    private static String summary(String said) {
        if (said == null) {
            return "";
        }
        String line = said.replaceAll("[\\p{Cntrl}\\s]+", " ").strip();
        if (line.isEmpty()) {
            return "";
        }
        return ": " + (line.length() <= REASON_CHARS ? line : line.substring(0, REASON_CHARS - 1).stripTrailing() + "…");
    }

    static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
