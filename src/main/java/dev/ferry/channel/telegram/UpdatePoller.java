package dev.ferry.channel.telegram;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.channel.ChannelStatus;
import dev.ferry.channel.telegram.BotApi.BotResponse;
import dev.ferry.config.TelegramConfig;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.intake.Intake;
import dev.ferry.journal.AppendResult;
import dev.ferry.journal.ChannelCursor;
import dev.ferry.journal.InboundMessage;
import dev.ferry.time.Scheduler;
import dev.ferry.time.WallClock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Long-polls one bot's {@code getUpdates}. It first asks {@code getMe}, which checks the token and gives
 * the bot's username for mentions. Each answer's updates are read, and the messages among them are
 * journaled together with the next offset in one commit ({@link Intake#acceptAll}); only then does the
 * next {@code getUpdates} carry that offset, which is what confirms the updates to Telegram. So a crash
 * before the commit fetches the same updates again, and a crash after it resumes from the stored offset;
 * an update fetched twice is a duplicate in the journal either way.
 *
 * <p>A refusal the operator must fix (a wrong token, a webhook set on the bot, another poller) and an
 * outage are logged once when they begin, shown in {@link #status}, and waited out with backoff; polling
 * recovers on its own once the cause is gone. Nothing here names the token.
 *
 * <p>Threading: one poll is in flight at a time. Each step runs on whichever thread completed the one
 * before (an HTTP client thread, the journal's completion thread) and hands the next to the scheduler,
 * so no thread waits on Telegram. {@code closed} ends the chain; a step that completes after it is dropped.
 */
final class UpdatePoller {
    private static final Logger log = LoggerFactory.getLogger(UpdatePoller.class);
    private static final RetryPolicy BACKOFF = new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(30));
    private static final int LIMIT = 100;
    /** How often a gateway standing by asks whether it is the bot's poller now. */
    private static final Duration STANDBY_CHECK = Duration.ofMillis(200);

    private final BotApi api;
    private final Intake intake;
    private final Scheduler scheduler;
    private final WallClock wallClock;
    private final TelegramConfig config;
    private final String account;
    private final Typing typing;
    private final MeterRegistry metrics;
    private final Counter received;
    private final Map<String, Counter> ignored = new ConcurrentHashMap<>();

    /** Set once getMe answered; read by status from any thread. */
    private volatile UpdateReader reader;
    private volatile String botUsername;
    /** The next offset to ask for, that is the last committed one; 0 before any (the API then starts at the oldest). */
    private final AtomicLong offset = new AtomicLong();
    private volatile String state = "starting";
    private volatile String problem;
    /** Failed attempts in a row, for the backoff; written only by the chain's current step. */
    private int failures;
    private volatile CompletableFuture<?> inFlight;
    private volatile Scheduler.Cancellable waiting;
    private volatile boolean closed;

    UpdatePoller(BotApi api, Intake intake, Scheduler scheduler, WallClock wallClock, TelegramConfig config, String account,
                 Typing typing, MeterRegistry metrics) {
        this.api = api;
        this.intake = intake;
        this.scheduler = scheduler;
        this.wallClock = wallClock;
        this.config = config;
        this.account = account;
        this.typing = typing;
        this.metrics = metrics;
        this.received = Counter.builder("ferry.telegram.updates").description("Updates received from getUpdates")
                .register(metrics);
    }

    void start() {
        offset.set(intake.cursor(TelegramChannel.NAME, account).map(Long::parseLong).orElse(0L));
        next(Duration.ZERO, this::identify);
    }

    /** Stops polling: the poll in flight is abandoned, and what it fetched is fetched again by the next poller. */
    void close() {
        closed = true;
        Scheduler.Cancellable pending = waiting;
        if (pending != null) {
            pending.cancel();
        }
        CompletableFuture<?> call = inFlight;
        if (call != null) {
            call.cancel(true);
        }
    }

    ChannelStatus status() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("bot", botUsername == null ? null : "@" + botUsername);
        details.put("offset", offset.get());
        details.put("updates", (long) received.count());
        Map<String, Long> byReason = new java.util.TreeMap<>();
        ignored.forEach((reason, counter) -> byReason.put(reason, (long) counter.count()));
        details.put("ignored", byReason);
        return new ChannelStatus(state, problem, details);
    }

    private void next(Duration delay, Runnable step) {
        if (!closed) {
            waiting = scheduler.schedule(delay, () -> {
                if (!closed) {
                    step.run();
                }
            });
        }
    }

    private void identify() {
        CompletableFuture<BotResponse> call = api.call("getMe", BotApi.JSON.createObjectNode());
        inFlight = call;
        call.whenComplete((response, failure) -> {
            if (closed) {
                return;
            }
            if (failure != null || !response.ok()) {
                failed("getMe", response, failure, this::identify);
                return;
            }
            JsonNode me = response.result();
            botUsername = me.path("username").asText("");
            reader = new UpdateReader(account, me.path("id").asLong(), botUsername, config.requireMention(), config.allowFrom());
            recovered();
            log.info("telegram bot @{} polling from offset={}", botUsername, offset.get());
            next(Duration.ZERO, this::poll);
        });
    }

    /**
     * Polls when this gateway is the bot's poller. On a journal shared by several gateways one of them is;
     * the others stand by, asking again five times a second (a look at memory, no call), and the one that
     * takes over starts from the offset its predecessor stored.
     */
    private void poll() {
        if (!intake.polls(TelegramChannel.NAME, account)) {
            if (!"standby".equals(state)) {
                log.info("telegram bot @{} is polled by another gateway; this one stands by", botUsername);
                state = "standby";
            }
            next(STANDBY_CHECK, this::poll);
            return;
        }
        if ("standby".equals(state)) {
            offset.set(intake.cursor(TelegramChannel.NAME, account).map(Long::parseLong).orElse(0L));
            log.info("telegram bot @{} polled by this gateway from offset={}", botUsername, offset.get());
            state = "polling";
        }
        ObjectNode params = BotApi.JSON.createObjectNode().put("timeout", config.pollTimeoutS()).put("limit", LIMIT);
        if (offset.get() > 0) {
            params.put("offset", offset.get());
        }
        UpdateReader.ALLOWED_UPDATES.forEach(params.putArray("allowed_updates")::add);
        CompletableFuture<BotResponse> call = api.poll(params, config.pollTimeoutS());
        inFlight = call;
        call.whenComplete((response, failure) -> {
            if (closed) {
                return;
            }
            if (failure != null || !response.ok() || !response.result().isArray()) {
                failed("getUpdates", response, failure, this::poll);
                return;
            }
            recovered();
            JsonNode updates = response.result();
            if (updates.isEmpty()) {
                next(Duration.ZERO, this::poll);
            } else {
                journal(updates);
            }
        });
    }

    /** Commits the answer's messages with the offset past its last update; polls on once that is stored. */
    private void journal(JsonNode updates) {
        long past = offset.get();
        List<InboundMessage> messages = new ArrayList<>();
        long now = wallClock.epochMillis();
        UpdateReader read = reader;
        for (JsonNode update : updates) {
            long id = update.path("update_id").asLong(-1);
            if (id < 0) {
                ignore("malformed");
                continue;
            }
            received.increment();
            past = Math.max(past, id + 1);
            UpdateReader.Read outcome = read.read(update, now);
            if (outcome instanceof UpdateReader.Accepted accepted) {
                messages.add(accepted.message());
            } else {
                ignore(((UpdateReader.Ignored) outcome).reason());
            }
        }
        long committedOffset = past;
        CompletableFuture<List<AppendResult>> commit = intake.acceptAll(messages, new ChannelCursor(TelegramChannel.NAME,
                account, Long.toString(committedOffset)));
        commit.whenComplete((results, failure) -> {
            if (failure != null) {
                // Not stored, so not confirmed: the same updates come again and are journaled then.
                failures++;
                Duration wait = BACKOFF.delayAfter(failures);
                log.warn("telegram updates not journaled, fetched again in {} ms: {}", wait.toMillis(), failure.getMessage());
                next(wait, this::poll);
                return;
            }
            offset.set(committedOffset);
            for (int i = 0; i < messages.size(); i++) {
                // A duplicate (fetched again after a crash) was answered, or is being answered, already.
                if (!results.get(i).duplicate()) {
                    InboundMessage message = messages.get(i);
                    typing.start(message.conversation(), ChatAddress.of(message.conversation(), message.threadId()));
                }
            }
            next(Duration.ZERO, this::poll);
        });
    }

    private void ignore(String reason) {
        ignored.computeIfAbsent(reason, key -> Counter.builder("ferry.telegram.updates.ignored").tag("reason", key)
                .description("Updates read and not answered: not a message, not allowed, not mentioned")
                .register(metrics)).increment();
    }

    /** A call that failed: says why once per episode, shows it in status, and tries {@code again} after a backoff. */
    private void failed(String method, BotResponse response, Throwable failure, Runnable again) {
        failures++;
        String nextState;
        String why;
        Duration wait = BACKOFF.delayAfter(failures);
        if (failure != null) {
            Throwable cause = failure.getCause() != null && failure instanceof java.util.concurrent.CompletionException
                    ? failure.getCause() : failure;
            nextState = "unreachable";
            why = "the Bot API cannot be reached: " + api.masked(cause.getMessage());
        } else if (response.ok()) {
            nextState = "failing";
            why = method + " answered something that is not a list of updates";
        } else if (response.errorCode() == 401 || response.errorCode() == 404) {
            // Telegram answers 404 to a token that is not a token at all.
            nextState = "unauthorized";
            why = "Telegram refused the bot token (" + response.error() + "): check channels.telegram.botToken"
                    + " or the variable " + config.botTokenEnv();
        } else if (response.errorCode() == 409) {
            nextState = "conflict";
            why = "Telegram refused getUpdates (" + response.error() + "): a webhook is set on this bot, or another"
                    + " program polls it; delete the webhook or stop the other poller";
        } else if (response.errorCode() == 429) {
            nextState = "throttled";
            why = "Telegram asked to slow down (" + response.error() + ")";
            if (response.retryAfter() != null) {
                wait = response.retryAfter();
            }
        } else {
            nextState = "failing";
            why = method + " failed: " + response.error();
        }
        if (!nextState.equals(state) || problem == null) {
            log.error("telegram {}; retrying every {} s until it works", why, Math.max(1, wait.toSeconds()));
        }
        state = nextState;
        problem = why;
        next(wait, again);
    }

    private void recovered() {
        if (problem != null) {
            log.info("telegram polling again after: {}", problem);
        }
        failures = 0;
        problem = null;
        state = "polling";
    }
}
