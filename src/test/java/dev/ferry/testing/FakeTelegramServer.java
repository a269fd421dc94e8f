package dev.ferry.testing;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.QuietException;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A real Telegram Bot API server on an ephemeral loopback port, for tests: {@code /bot<TOKEN>/<method>}
 * answered in the wire format of https://core.telegram.org/bots/api ({@code {"ok":true,"result":…}}, or
 * {@code {"ok":false,"error_code","description"}} with the HTTP status equal to the error code), so the
 * gateway's real Bot API client runs against it unchanged — its JSON bodies, and form or query parameters
 * as other clients send them.
 *
 * <p>Why a real server rather than a mocked client: what breaks a Telegram channel in production is the
 * protocol's behaviour, not its method signatures — long polls held open and answered when an update
 * arrives, offsets that confirm updates forever, the 409 a second poller provokes, 429 with
 * {@code retry_after}, a connection cut without an answer. Each is reproduced here as Telegram does it.
 *
 * <p>The test scripts users ({@link #privateText}, {@link #groupText}, {@link #photo}, …), which store
 * updates for {@code getUpdates}, and failures ({@link #failNext}, {@link #dropNext}, {@link #blockChat},
 * …); it reads back what the bot did ({@link #calls}, {@link #sent}, {@link #chatActions}). Update ids
 * increase by one from the start value; message ids are per chat and shared between users' messages and the
 * bot's, as on Telegram. A held {@code getUpdates} occupies no Jetty thread: the handler returns at once
 * and the response is completed later, by an enqueued update, the poll's timer, a newer poll or
 * {@link #close}. The token is never written into an answer.
 *
 * <p>Thread-safe: all mutable state is guarded by {@code this}. A held poll is taken out of the state under
 * the lock by whoever answers it (an update, its timer, a newer poll, close), so it is answered exactly once;
 * the waits ({@link #awaitSent}, {@link #awaitPollHeld}) use the same lock's wait/notify.
 */
public final class FakeTelegramServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_TEXT = 4096;
    private static final Pattern INTEGER = Pattern.compile("-?\\d+");
    private static final Pattern WHITESPACE = Pattern.compile("\\s");
    private static final Pattern AMPERSAND = Pattern.compile("&");
    private static final String CONFLICT_OTHER_POLL =
            "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
    private static final String CONFLICT_WEBHOOK =
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
    private static final Set<String> CHAT_ACTIONS = Set.of("typing", "upload_photo", "record_video", "upload_video",
            "record_voice", "upload_voice", "upload_document", "choose_sticker", "find_location", "record_video_note",
            "upload_video_note");
    /** Methods answered, by lower-case name: Telegram matches method names without regard to case. */
    private static final Map<String, String> METHODS = Map.of("getme", "getMe", "getupdates", "getUpdates",
            "sendmessage", "sendMessage", "sendchataction", "sendChatAction", "deletewebhook", "deleteWebhook",
            "getwebhookinfo", "getWebhookInfo");

    /** One answered (or dropped, {@code status} 0) request: its method as named in the path, its parameters, when it arrived. */
    public record Call(String method, JsonNode params, int status, long atNanos) {}

    /** One message the bot sent successfully; {@code replyToMessageId} from {@code reply_parameters} or the older field. */
    public record Sent(long chatId, Integer threadId, String text, Long replyToMessageId, long messageId) {}

    /** One chat action the bot sent successfully. */
    public record ChatAction(long chatId, Integer threadId, String action) {}

    /** A scripted failure for one call: a connection cut, or an error answer. */
    private record Failure(boolean drop, int status, String description, Integer retryAfter) {}

    private final String token;
    private final String botUsername;
    private final long botId;
    private final Server server;
    private final ServerConnector connector;
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "fake-telegram-timer");
        thread.setDaemon(true);
        return thread;
    });

    // Guarded by this.
    private long nextUpdateId;
    private final TreeMap<Long, ObjectNode> updates = new TreeMap<>();
    private long confirmedOffset;
    private Poll held;
    private List<String> allowedUpdates;
    private final Map<Long, Long> lastMessageIds = new HashMap<>();
    private final Map<Long, ObjectNode> chats = new HashMap<>();
    private final Map<Long, Map<Long, ObjectNode>> messages = new HashMap<>();
    private final Map<String, Deque<Failure>> failures = new HashMap<>();
    private final Set<Long> blocked = new HashSet<>();
    private final Set<String> removedTopics = new HashSet<>();
    private boolean unauthorized;
    private boolean webhookSet;
    private boolean closed;
    private int files;
    private final List<Call> calls = new ArrayList<>();
    private final List<Sent> sent = new ArrayList<>();
    private final List<ChatAction> chatActions = new ArrayList<>();

    private FakeTelegramServer(String token, String botUsername, long firstUpdateId) throws Exception {
        this.token = token;
        this.botUsername = botUsername;
        int colon = token.indexOf(':');
        String prefix = colon < 0 ? "" : token.substring(0, colon);
        this.botId = INTEGER.matcher(prefix).matches() && !prefix.startsWith("-") ? Long.parseLong(prefix) : 7_000_000_001L;
        this.nextUpdateId = firstUpdateId;
        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("fake-telegram");
        threads.setDaemon(true);
        server = new Server(threads);
        connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        // Long polls sit idle for their whole timeout; Jetty's default 30 s would cut the longer ones.
        connector.setIdleTimeout(Duration.ofMinutes(10).toMillis());
        server.addConnector(connector);
        server.setHandler(new Api());
        server.start();
    }

    /** Starts a server for this bot token and username; update ids start at 1000. */
    public static FakeTelegramServer start(String token, String botUsername) throws Exception {
        return start(token, botUsername, 1000);
    }

    /** Starts a server for this bot token and username; update ids start at {@code firstUpdateId}. */
    public static FakeTelegramServer start(String token, String botUsername, long firstUpdateId) throws Exception {
        return new FakeTelegramServer(token, botUsername, firstUpdateId);
    }

    /** What a client is configured with as the API root: requests go to {@code apiBaseUrl() + "/bot" + token + "/" + method}. */
    public String apiBaseUrl() {
        return "http://127.0.0.1:" + connector.getLocalPort();
    }

    public String token() {
        return token;
    }

    /** The bot's user id: the token's numeric prefix, as on Telegram, or 7000000001 when it has none. */
    public long botId() {
        return botId;
    }

    public String botUsername() {
        return botUsername;
    }

    // ---- Updates the test scripts. Each returns the update_id assigned.

    /** A user's text in their private chat with the bot. */
    public long privateText(long userId, String firstName, String text) {
        synchronized (this) {
            ObjectNode chat = chats.computeIfAbsent(userId, id -> JSON.createObjectNode().put("id", id).put("type", "private")
                    .put("first_name", firstName));
            ObjectNode message = message(chat.deepCopy(), user(userId, firstName));
            withText(message, "text", "entities", text);
            return enqueueMessage("message", message);
        }
    }

    /** A user's text in a supergroup titled "Group <chatId>"; mentions of the bot and a leading command get entities. */
    public long groupText(long chatId, long userId, String text) {
        synchronized (this) {
            ObjectNode message = message(groupChat(chatId, false), user(userId, null));
            withText(message, "text", "entities", text);
            return enqueueMessage("message", message);
        }
    }

    /** As {@link #groupText}, replying to the bot's message {@code botMessageId} in that chat. */
    public long groupReplyToBot(long chatId, long userId, String text, long botMessageId) {
        synchronized (this) {
            ObjectNode chat = groupChat(chatId, false);
            ObjectNode message = message(chat, user(userId, null));
            withText(message, "text", "entities", text);
            ObjectNode original = messages.getOrDefault(chatId, Map.of()).get(botMessageId);
            if (original == null) {
                original = JSON.createObjectNode().put("message_id", botMessageId);
                original.set("from", botUser());
                original.set("chat", chat.deepCopy());
                original.put("date", now());
            }
            message.set("reply_to_message", original.deepCopy());
            return enqueueMessage("message", message);
        }
    }

    /** A user's text in topic {@code threadId} of a forum supergroup. */
    public long topicText(long chatId, int threadId, long userId, String text) {
        synchronized (this) {
            ObjectNode message = message(groupChat(chatId, true), user(userId, null));
            message.put("message_thread_id", threadId).put("is_topic_message", true);
            withText(message, "text", "entities", text);
            return enqueueMessage("message", message);
        }
    }

    /** A photo (two sizes) with an optional caption; private chat when {@code chatId == userId}, supergroup otherwise. */
    public long photo(long chatId, long userId, String caption) {
        synchronized (this) {
            ObjectNode message = mediaMessage(chatId, userId);
            String file = nextFileId("photo");
            ArrayNode sizes = message.putArray("photo");
            sizes.addObject().put("file_id", file + "-s").put("file_unique_id", file + "-su").put("file_size", 1_434)
                    .put("width", 90).put("height", 67);
            sizes.addObject().put("file_id", file + "-m").put("file_unique_id", file + "-mu").put("file_size", 48_211)
                    .put("width", 800).put("height", 600);
            withCaption(message, caption);
            return enqueueMessage("message", message);
        }
    }

    /** A document with its file name and MIME type, and an optional caption. */
    public long document(long chatId, long userId, String fileName, String mimeType, String caption) {
        synchronized (this) {
            ObjectNode message = mediaMessage(chatId, userId);
            String file = nextFileId("document");
            message.putObject("document").put("file_id", file).put("file_unique_id", file + "-u").put("file_name", fileName)
                    .put("mime_type", mimeType).put("file_size", 12_345);
            withCaption(message, caption);
            return enqueueMessage("message", message);
        }
    }

    /** A voice note of {@code durationSeconds}, OGG/Opus as Telegram records them. */
    public long voice(long chatId, long userId, int durationSeconds) {
        synchronized (this) {
            ObjectNode message = mediaMessage(chatId, userId);
            String file = nextFileId("voice");
            message.putObject("voice").put("file_id", file).put("file_unique_id", file + "-u").put("duration", durationSeconds)
                    .put("mime_type", "audio/ogg").put("file_size", 4_000 * Math.max(1, durationSeconds));
            return enqueueMessage("message", message);
        }
    }

    /** A static sticker for {@code emoji}. */
    public long sticker(long chatId, long userId, String emoji) {
        synchronized (this) {
            ObjectNode message = mediaMessage(chatId, userId);
            String file = nextFileId("sticker");
            message.putObject("sticker").put("file_id", file).put("file_unique_id", file + "-u").put("type", "regular")
                    .put("width", 512).put("height", 512).put("is_animated", false).put("is_video", false)
                    .put("emoji", emoji).put("file_size", 23_000);
            return enqueueMessage("message", message);
        }
    }

    /** A user's edit of their message {@code messageId}: an {@code edited_message} update with {@code edit_date}. */
    public long editedText(long chatId, long userId, long messageId, String text) {
        synchronized (this) {
            ObjectNode chat = chatId == userId ? chats.computeIfAbsent(userId, id -> JSON.createObjectNode().put("id", id)
                    .put("type", "private").put("first_name", "User " + id)).deepCopy() : groupChat(chatId, false);
            ObjectNode message = JSON.createObjectNode().put("message_id", messageId);
            message.set("from", user(userId, chat.path("first_name").asText(null)));
            message.set("chat", chat);
            long date = now();
            message.put("date", date).put("edit_date", date);
            withText(message, "text", "entities", text);
            return enqueue("edited_message", message);
        }
    }

    /** Stores any update as given, with an {@code update_id} added in front. */
    public long rawUpdate(ObjectNode withoutId) {
        ObjectNode update = JSON.createObjectNode();
        synchronized (this) {
            long id = nextUpdateId;
            update.put("update_id", id);
            withoutId.fieldNames().forEachRemaining(name -> {
                if (!name.equals("update_id")) {
                    update.set(name, withoutId.get(name).deepCopy());
                }
            });
            return store(update);
        }
    }

    // ---- Controls.

    /** The next {@code times} calls of {@code method} answer {@code status} with {@code description}, in scripted order. */
    public synchronized void failNext(String method, int times, int status, String description) {
        script(method, times, new Failure(false, status, description, null));
    }

    /** The next {@code times} calls of {@code method} answer 429 with {@code parameters.retry_after}. */
    public synchronized void failNextWithRetryAfter(String method, int times, int retryAfterSeconds) {
        script(method, times, new Failure(false, 429, "Too Many Requests: retry after " + retryAfterSeconds, retryAfterSeconds));
    }

    /** The next {@code times} calls of {@code method} get no answer: the TCP connection is closed after the request is read. */
    public synchronized void dropNext(String method, int times) {
        script(method, times, new Failure(true, 0, null, null));
    }

    /** The user of this chat blocked the bot: sends to it answer 403. */
    public synchronized void blockChat(long chatId) {
        blocked.add(chatId);
    }

    /** The forum topic was deleted: sends to it answer 400 {@code message thread not found}. */
    public synchronized void removeTopic(long chatId, int threadId) {
        removedTopics.add(chatId + ":" + threadId);
    }

    /** While on, every call answers 401, as after the token was revoked. */
    public synchronized void unauthorized(boolean on) {
        unauthorized = on;
    }

    /** While on, a webhook is registered and getUpdates answers 409; {@code deleteWebhook} turns it off. */
    public synchronized void webhookSet(boolean on) {
        webhookSet = on;
    }

    // ---- Records.

    public synchronized List<Call> calls() {
        return List.copyOf(calls);
    }

    public synchronized List<Call> calls(String method) {
        return calls.stream().filter(call -> call.method().equals(method)).toList();
    }

    public synchronized List<Sent> sent() {
        return List.copyOf(sent);
    }

    /**
     * Starts a thread that writes {@code perChat} rounds of one private text to each of chats 1..{@code chats}
     * ("tok-CHAT-ROUND", from "userCHAT"), {@code between} apart: a steady stream of updates to answer.
     */
    public Thread feedTokens(int chats, int perChat, Duration between) {
        Thread feeder = new Thread(() -> {
            try {
                for (int i = 0; i < perChat; i++) {
                    for (int chat = 1; chat <= chats; chat++) {
                        privateText(chat, "user" + chat, "tok-" + chat + "-" + i);
                    }
                    TimeUnit.NANOSECONDS.sleep(between.toNanos());   // the stream's pace, not a wait for a condition
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "telegram-feeder");
        feeder.start();
        return feeder;
    }

    /** Each match of {@code token} in the texts sent, with the distinct messages (chat and text) that carry it. */
    public Map<String, Set<String>> sentByToken(Pattern token) {
        Map<String, Set<String>> byToken = new HashMap<>();
        for (Sent message : sent()) {
            java.util.regex.Matcher matcher = token.matcher(message.text());
            while (matcher.find()) {
                byToken.computeIfAbsent(matcher.group(), t -> new HashSet<>()).add(message.chatId() + "|" + message.text());
            }
        }
        return byToken;
    }

    public synchronized List<ChatAction> chatActions() {
        return List.copyOf(chatActions);
    }

    /** Updates stored and not yet confirmed by a getUpdates offset. */
    public synchronized int storedUpdates() {
        return updates.size();
    }

    /** The highest offset a getUpdates confirmed, 0 before any did. */
    public synchronized long confirmedOffset() {
        return confirmedOffset;
    }

    /** The last {@code allowed_updates} a getUpdates gave (recorded, not applied), or null if none did. */
    public synchronized List<String> allowedUpdates() {
        return allowedUpdates;
    }

    /** Whether a getUpdates is being held open now. */
    public synchronized boolean pollHeld() {
        return held != null;
    }

    /** Waits until a getUpdates is held open, so a test knows an update it enqueues next is answered to a waiting poll. */
    public synchronized void awaitPollHeld(Duration timeout) {
        awaitCondition(() -> held != null, timeout, () -> "no getUpdates held open; calls: " + calls);
    }

    /** Waits until at least {@code count} messages were sent and returns them all; fails with what arrived otherwise. */
    public synchronized List<Sent> awaitSent(int count, Duration timeout) {
        awaitCondition(() -> sent.size() >= count, timeout,
                () -> "expected " + count + " sent messages, got " + sent.size() + ": " + sent);
        return List.copyOf(sent);
    }

    /** Waits on this for {@code done}, woken by every change that could make it true. Call with the lock held. */
    private void awaitCondition(java.util.function.BooleanSupplier done, Duration timeout,
                                java.util.function.Supplier<String> failure) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError(failure.get());
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted: " + failure.get(), e);
            }
        }
    }

    /** Stops the server; a held getUpdates is answered {@code []} first, as Telegram does when a poll ends. */
    @Override
    public void close() {
        Poll poll;
        synchronized (this) {
            closed = true;
            poll = held;
            held = null;
            notifyAll();
        }
        boolean interrupted = false;
        if (poll != null) {
            poll.timer.cancel(false);
            CompletableFuture<Void> written = new CompletableFuture<>();
            poll.exchange.ok(JSON.createArrayNode(), written);
            try {
                written.get(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException | TimeoutException gone) {
                // The client had gone or the write stalled: stopping closes the connection either way.
            }
        }
        timers.shutdownNow();
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("the fake Telegram server did not stop", e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- Building messages and updates. All with the lock held.

    private ObjectNode user(long userId, String firstName) {
        return JSON.createObjectNode().put("id", userId).put("is_bot", false)
                .put("first_name", firstName == null ? "User " + userId : firstName).put("language_code", "en");
    }

    private ObjectNode botUser() {
        return JSON.createObjectNode().put("id", botId).put("is_bot", true).put("first_name", "Ferry")
                .put("username", botUsername);
    }

    private ObjectNode groupChat(long chatId, boolean forum) {
        ObjectNode chat = chats.computeIfAbsent(chatId, id -> JSON.createObjectNode().put("id", id).put("title", "Group " + id)
                .put("type", "supergroup"));
        if (forum) {
            chat.put("is_forum", true);
        }
        return chat.deepCopy();
    }

    /** A media message's shell: the user's private chat when {@code chatId == userId}, a supergroup otherwise. */
    private ObjectNode mediaMessage(long chatId, long userId) {
        ObjectNode chat = chatId == userId ? chats.computeIfAbsent(userId, id -> JSON.createObjectNode().put("id", id)
                .put("type", "private").put("first_name", "User " + id)).deepCopy() : groupChat(chatId, false);
        return message(chat, user(userId, chat.path("first_name").asText(null)));
    }

    /** A new message in {@code chat} from {@code from}, with the chat's next message id and the current date. */
    private ObjectNode message(ObjectNode chat, ObjectNode from) {
        long chatId = chat.path("id").asLong();
        ObjectNode message = JSON.createObjectNode().put("message_id", nextMessageId(chatId));
        message.set("from", from);
        message.set("chat", chat);
        message.put("date", now());
        return message;
    }

    private long nextMessageId(long chatId) {
        return lastMessageIds.merge(chatId, 1L, Long::sum);
    }

    private void withCaption(ObjectNode message, String caption) {
        if (caption != null && !caption.isEmpty()) {
            withText(message, "caption", "caption_entities", caption);
        }
    }

    /** Sets the text and the entities Telegram would find: a leading bot command, mentions of this bot. */
    private void withText(ObjectNode message, String field, String entitiesField, String text) {
        message.put(field, text);
        ArrayNode entities = JSON.createArrayNode();
        int commandEnd = 0;
        if (text.startsWith("/")) {
            java.util.regex.Matcher space = WHITESPACE.matcher(text);
            commandEnd = space.find() ? space.start() : text.length();
            if (commandEnd > 1) {
                entities.addObject().put("offset", 0).put("length", commandEnd).put("type", "bot_command");
            }
        }
        String mention = "@" + botUsername;
        for (int at = indexOfIgnoreCase(text, mention, 0); at >= 0; at = indexOfIgnoreCase(text, mention, at + 1)) {
            int end = at + mention.length();
            boolean wholeName = end == text.length() || !isUsernameChar(text.charAt(end));
            if (wholeName && at >= commandEnd) {
                entities.addObject().put("offset", at).put("length", mention.length()).put("type", "mention");
            }
        }
        if (!entities.isEmpty()) {
            message.set(entitiesField, entities);
        }
    }

    private static int indexOfIgnoreCase(String text, String part, int from) {
        for (int at = from; at + part.length() <= text.length(); at++) {
            if (text.regionMatches(true, at, part, 0, part.length())) {
                return at;
            }
        }
        return -1;
    }

    private static boolean isUsernameChar(char c) {
        return c == '_' || (c < 128 && Character.isLetterOrDigit(c));
    }

    private String nextFileId(String kind) {
        return "fake-" + kind + "-" + ++files;
    }

    private long enqueueMessage(String kind, ObjectNode message) {
        messages.computeIfAbsent(message.path("chat").path("id").asLong(), id -> new HashMap<>())
                .put(message.path("message_id").asLong(), message);
        return enqueue(kind, message);
    }

    private long enqueue(String kind, ObjectNode content) {
        ObjectNode update = JSON.createObjectNode().put("update_id", nextUpdateId);
        update.set(kind, content.deepCopy());
        return store(update);
    }

    /**
     * Stores an update and, when a poll is held, answers it with what is stored. The answer is written here
     * with the lock held: Jetty's write of a small body does not call back into this class, and answering
     * inside the lock keeps the poll's answer in step with the store.
     */
    private long store(ObjectNode update) {
        long id = update.path("update_id").asLong();
        nextUpdateId = id + 1;
        updates.put(id, update);
        Poll poll = held;
        if (poll != null) {
            held = null;
            poll.timer.cancel(false);
            poll.exchange.ok(pending(poll.limit), null);
        }
        notifyAll();
        return id;
    }

    private ArrayNode pending(int limit) {
        ArrayNode result = JSON.createArrayNode();
        updates.values().stream().limit(limit).forEach(update -> result.add(update.deepCopy()));
        return result;
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    private void script(String method, int times, Failure failure) {
        Deque<Failure> queue = failures.computeIfAbsent(method, name -> new ArrayDeque<>());
        for (int i = 0; i < times; i++) {
            queue.add(failure);
        }
    }

    // ---- Serving.

    /** Reads the body without blocking a thread, then answers, now or (a held poll) later. */
    private final class Api extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            long atNanos = System.nanoTime();
            Content.Source.asString(request, StandardCharsets.UTF_8, new Promise<>() {
                @Override
                public void succeeded(String body) {
                    try {
                        serve(request, response, callback, body, atNanos);
                    } catch (RuntimeException e) {
                        new Exchange("?", JSON.createObjectNode(), request, response, callback, atNanos)
                                .error(500, "Internal Server Error: " + e.getClass().getSimpleName());
                    }
                }

                @Override
                public void failed(Throwable failure) {
                    callback.failed(failure);
                }
            });
            return true;
        }
    }

    private void serve(Request request, Response response, Callback callback, String body, long atNanos) {
        String path = request.getHttpURI().getDecodedPath();
        int slash = path.startsWith("/bot") ? path.indexOf('/', 4) : -1;
        String named = slash < 0 ? "" : path.substring(slash + 1);
        String known = METHODS.get(named.toLowerCase(Locale.ROOT));
        // Recorded and scripted by the API's spelling, however the client cased it.
        String method = known != null ? known : named;
        ObjectNode params;
        try {
            params = params(request, body);
        } catch (IOException e) {
            new Exchange(method, JSON.createObjectNode(), request, response, callback, atNanos)
                    .error(400, "Bad Request: can't parse JSON");
            return;
        }
        Exchange exchange = new Exchange(method, params, request, response, callback, atNanos);
        if (slash < 0) {
            exchange.error(404, "Not Found");
            return;
        }
        if (!path.substring(4, slash).equals(token)) {
            exchange.error(401, "Unauthorized");
            return;
        }
        Failure failure;
        synchronized (this) {
            if (unauthorized) {
                failure = new Failure(false, 401, "Unauthorized", null);
            } else {
                Deque<Failure> queue = failures.get(method);
                failure = queue == null ? null : queue.poll();
            }
        }
        if (failure != null) {
            if (failure.drop()) {
                exchange.drop();
            } else {
                exchange.error(failure.status(), failure.description(), failure.retryAfter());
            }
            return;
        }
        if (known == null) {
            exchange.error(404, "Not Found");
            return;
        }
        switch (known) {
            case "getMe" -> exchange.ok(botUser().put("can_join_groups", true).put("can_read_all_group_messages", false)
                    .put("supports_inline_queries", false), null);
            case "getUpdates" -> getUpdates(exchange);
            case "sendMessage" -> sendMessage(exchange);
            case "sendChatAction" -> sendChatAction(exchange);
            case "deleteWebhook" -> {
                synchronized (this) {
                    webhookSet = false;
                    if (params.path("drop_pending_updates").asBoolean(false)) {
                        updates.clear();
                    }
                }
                exchange.ok(JSON.getNodeFactory().booleanNode(true), null);
            }
            case "getWebhookInfo" -> {
                ObjectNode info = JSON.createObjectNode();
                synchronized (this) {
                    info.put("url", webhookSet ? "https://ferry.invalid/telegram/webhook" : "")
                            .put("has_custom_certificate", false).put("pending_update_count", updates.size());
                }
                exchange.ok(info, null);
            }
            default -> exchange.error(404, "Not Found");
        }
    }

    private void getUpdates(Exchange exchange) {
        JsonNode params = exchange.params;
        int limit = Math.max(1, Math.min(100, params.path("limit").asInt(100)));
        long timeout = Math.max(0, params.path("timeout").asLong(0));
        Poll older;
        synchronized (this) {
            if (webhookSet) {
                exchange.error(409, CONFLICT_WEBHOOK);
                return;
            }
            if (params.hasNonNull("allowed_updates")) {
                List<String> allowed = new ArrayList<>();
                params.get("allowed_updates").forEach(type -> allowed.add(type.asText()));
                allowedUpdates = List.copyOf(allowed);
            }
            if (params.hasNonNull("offset")) {
                confirm(params.get("offset").asLong());
            }
            if (!updates.isEmpty() || timeout == 0 || closed) {
                exchange.ok(pending(limit), null);
                return;
            }
            older = held;
            Poll poll = new Poll(exchange, limit);
            held = poll;
            poll.timer = timers.schedule(() -> expire(poll), timeout, TimeUnit.SECONDS);
            notifyAll();
        }
        if (older != null) {
            older.timer.cancel(false);
            older.exchange.error(409, CONFLICT_OTHER_POLL);
        }
    }

    /** Forgets every update below {@code offset}; a negative offset keeps only the last {@code -offset}, as on Telegram. */
    private void confirm(long offset) {
        if (offset < 0) {
            while (updates.size() > -offset) {
                updates.pollFirstEntry();
            }
            offset = updates.isEmpty() ? nextUpdateId : updates.firstKey();
        } else {
            updates.headMap(offset).clear();
        }
        confirmedOffset = Math.max(confirmedOffset, offset);
    }

    private void expire(Poll poll) {
        synchronized (this) {
            if (held != poll) {
                return;
            }
            held = null;
            notifyAll();
        }
        poll.exchange.ok(JSON.createArrayNode(), null);
    }

    private void sendMessage(Exchange exchange) {
        JsonNode params = exchange.params;
        Long chatId = chatId(exchange);
        if (chatId == null) {
            return;
        }
        String text = params.path("text").asText("");
        Integer threadId = params.hasNonNull("message_thread_id") ? params.get("message_thread_id").asInt() : null;
        if (text.isBlank()) {
            exchange.error(400, "Bad Request: message text is empty");
            return;
        }
        if (text.length() > MAX_TEXT) {
            exchange.error(400, "Bad Request: message is too long");
            return;
        }
        if (refused(exchange, chatId, threadId)) {
            return;
        }
        JsonNode replyTo = params.path("reply_parameters").path("message_id");
        if (replyTo.isMissingNode() || replyTo.isNull()) {
            replyTo = params.path("reply_to_message_id");
        }
        Long replyToMessageId = replyTo.isMissingNode() || replyTo.isNull() ? null : replyTo.asLong();
        ObjectNode message;
        synchronized (this) {
            ObjectNode chat = chats.containsKey(chatId) ? chats.get(chatId).deepCopy() : defaultChat(chatId);
            message = message(chat, botUser());
            if (threadId != null) {
                message.put("message_thread_id", threadId);
            }
            message.put("text", text);
            ObjectNode original = replyToMessageId == null ? null
                    : messages.getOrDefault(chatId, Map.of()).get(replyToMessageId);
            if (original != null) {
                message.set("reply_to_message", original.deepCopy());
            }
            messages.computeIfAbsent(chatId, id -> new HashMap<>()).put(message.path("message_id").asLong(), message.deepCopy());
            sent.add(new Sent(chatId, threadId, text, replyToMessageId, message.path("message_id").asLong()));
            notifyAll();
        }
        exchange.ok(message, null);
    }

    private void sendChatAction(Exchange exchange) {
        Long chatId = chatId(exchange);
        if (chatId == null) {
            return;
        }
        String action = exchange.params.path("action").asText("");
        Integer threadId = exchange.params.hasNonNull("message_thread_id")
                ? exchange.params.get("message_thread_id").asInt() : null;
        if (!CHAT_ACTIONS.contains(action)) {
            exchange.error(400, "Bad Request: wrong parameter action in request");
            return;
        }
        if (refused(exchange, chatId, threadId)) {
            return;
        }
        synchronized (this) {
            chatActions.add(new ChatAction(chatId, threadId, action));
            notifyAll();
        }
        exchange.ok(JSON.getNodeFactory().booleanNode(true), null);
    }

    /** The numeric chat id, or null after answering 400: {@code @channel} names are not resolved by this fake. */
    private static Long chatId(Exchange exchange) {
        JsonNode chatId = exchange.params.path("chat_id");
        if (chatId.isIntegralNumber()) {
            return chatId.asLong();
        }
        String text = chatId.asText("");
        if (text.isEmpty()) {
            exchange.error(400, "Bad Request: chat_id is empty");
            return null;
        }
        if (!INTEGER.matcher(text).matches()) {
            exchange.error(400, "Bad Request: chat not found");
            return null;
        }
        return Long.parseLong(text);
    }

    /** Answers 403 for a blocked chat or 400 for a removed topic, and says whether it did. */
    private boolean refused(Exchange exchange, long chatId, Integer threadId) {
        boolean isBlocked;
        boolean topicGone;
        synchronized (this) {
            isBlocked = blocked.contains(chatId);
            topicGone = threadId != null && removedTopics.contains(chatId + ":" + threadId);
        }
        if (isBlocked) {
            exchange.error(403, "Forbidden: bot was blocked by the user");
        } else if (topicGone) {
            exchange.error(400, "Bad Request: message thread not found");
        }
        return isBlocked || topicGone;
    }

    private static ObjectNode defaultChat(long chatId) {
        ObjectNode chat = JSON.createObjectNode().put("id", chatId);
        return chatId > 0 ? chat.put("type", "private").put("first_name", "User " + chatId)
                : chat.put("title", "Group " + chatId).put("type", "supergroup");
    }

    /**
     * The parameters of a call, merged from the query string and the body (JSON, or URL-encoded form). Form
     * and query values are strings, as on the wire; one that holds a JSON object or array (how form clients
     * send {@code reply_parameters} and {@code allowed_updates}) is parsed.
     */
    private static ObjectNode params(Request request, String body) throws IOException {
        ObjectNode params = JSON.createObjectNode();
        String query = request.getHttpURI().getQuery();
        if (query != null) {
            addForm(params, query);
        }
        String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        type = type == null ? "" : type.toLowerCase(Locale.ROOT);
        if (body == null || body.isBlank()) {
            return params;
        }
        if (type.startsWith("application/json")) {
            JsonNode json = JSON.readTree(body);
            if (json instanceof ObjectNode object) {
                params.setAll(object);
            } else {
                throw new IOException("not an object");
            }
        } else if (type.startsWith("application/x-www-form-urlencoded")) {
            addForm(params, body);
        }
        return params;
    }

    private static void addForm(ObjectNode params, String form) {
        for (String pair : AMPERSAND.splitAsStream(form).toList()) {
            if (pair.isEmpty()) {
                continue;
            }
            int equals = pair.indexOf('=');
            String name = URLDecoder.decode(equals < 0 ? pair : pair.substring(0, equals), StandardCharsets.UTF_8);
            String value = equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
            JsonNode parsed = null;
            if (value.startsWith("{") || value.startsWith("[")) {
                try {
                    parsed = JSON.readTree(value);
                } catch (IOException notJson) {
                    // A text that merely starts with a brace.
                }
            }
            params.set(name, parsed != null ? parsed : params.textNode(value));
        }
    }

    /** Why a dropped exchange failed: a {@link QuietException}, which Jetty does not log above debug. */
    private static final class Dropped extends IOException implements QuietException {
        private static final long serialVersionUID = 1L;

        Dropped() {
            super("dropped by FakeTelegramServer.dropNext");
        }
    }

    /** A getUpdates held open: answered once, by whoever takes it out of {@code held}. */
    private static final class Poll {
        final Exchange exchange;
        final int limit;
        ScheduledFuture<?> timer;

        Poll(Exchange exchange, int limit) {
            this.exchange = exchange;
            this.limit = limit;
        }
    }

    /** One request and its answer: records the call as it answers. */
    private final class Exchange {
        final String method;
        final JsonNode params;
        final Request request;
        final Response response;
        final Callback callback;
        final long atNanos;

        Exchange(String method, JsonNode params, Request request, Response response, Callback callback, long atNanos) {
            this.method = method;
            this.params = params;
            this.request = request;
            this.response = response;
            this.callback = callback;
            this.atNanos = atNanos;
        }

        void ok(JsonNode result, CompletableFuture<Void> written) {
            ObjectNode body = JSON.createObjectNode().put("ok", true);
            body.set("result", result);
            write(200, body, written);
        }

        void error(int status, String description) {
            error(status, description, null);
        }

        void error(int status, String description, Integer retryAfter) {
            ObjectNode body = JSON.createObjectNode().put("ok", false).put("error_code", status).put("description", description);
            if (retryAfter != null) {
                body.putObject("parameters").put("retry_after", retryAfter);
            }
            write(status, body, null);
        }

        /** Closes the connection with nothing written, as a network cut or a proxy reset looks to the client. */
        void drop() {
            record(0);
            EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
            endPoint.close();
            // Quiet, so Jetty logs the failure (and with it the request's URL, which holds the token) at debug only.
            callback.failed(new Dropped());
        }

        private void write(int status, ObjectNode body, CompletableFuture<Void> written) {
            record(status);
            byte[] bytes;
            try {
                bytes = JSON.writeValueAsBytes(body);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            Consumer<Throwable> fail = failure -> {
                callback.failed(failure);
                if (written != null) {
                    written.completeExceptionally(failure);
                }
            };
            try {
                response.setStatus(status);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                response.write(true, ByteBuffer.wrap(bytes), Callback.from(() -> {
                    callback.succeeded();
                    if (written != null) {
                        written.complete(null);
                    }
                }, fail));
            } catch (RuntimeException e) {
                // The client went away while its poll was held and Jetty gave the exchange up: nothing to answer.
                fail.accept(e);
            }
        }

        private void record(int status) {
            synchronized (FakeTelegramServer.this) {
                calls.add(new Call(method, params.deepCopy(), status, atNanos));
                FakeTelegramServer.this.notifyAll();
            }
        }
    }
}
