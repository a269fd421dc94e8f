package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.FakeTelegramServer;
import dev.ferry.testing.FakeTelegramServer.Sent;
import dev.ferry.testing.GatewayClient;

/**
 * The Telegram channel in a running gateway against a real Bot API server on loopback: where replies go
 * (private chats, a group with and without a mention, a forum topic), long replies, delivery failures
 * Telegram answers with, who may talk to the bot, and a reload in the middle of a stream of updates.
 */
class TelegramGatewayIT {

    /** Also what the CI's final grep looks for in every test log. */
    static final String TOKEN = "424242:FERRY-TEST-TOKEN-never-logged";
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private FakeTelegramServer telegram;
    private Gateway gateway;
    private GatewayClient client;
    private Path file;

    /** Every log event of the test, as the gateway formatted it: the token must be in none. */
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    private Level levelBefore;

    /** Ferry's own lines down to INFO, where the poller says what it does, are what the check reads. */
    @BeforeEach
    void watchTheLog() {
        log.start();
        Logger ferry = (Logger) LoggerFactory.getLogger("dev.ferry");
        levelBefore = ferry.getLevel();
        ferry.setLevel(Level.INFO);
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(log);
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (telegram != null) {
            telegram.close();
        }
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(log);
        ((Logger) LoggerFactory.getLogger("dev.ferry")).setLevel(levelBefore);
        assertThat(log.list).as("log events").isNotEmpty().allSatisfy(event -> {
            assertThat(event.getFormattedMessage()).doesNotContain(TOKEN).doesNotContain("FERRY-TEST-TOKEN");
            if (event.getThrowableProxy() != null) {
                assertThat(event.getThrowableProxy().getMessage()).doesNotContain("FERRY-TEST-TOKEN");
            }
        });
    }

    private void start(String telegramMore, String more) throws Exception {
        telegram = telegram == null ? FakeTelegramServer.start(TOKEN, "ferrybot") : telegram;
        file = dir.resolve("ferry.json5");
        Files.writeString(file, config(1, telegramMore, more));
        gateway = Gateway.start(ConfigLoader.load(file));
        client = new GatewayClient(gateway.url(), null);
    }

    private String config(int pollTimeoutS, String telegramMore, String more) {
        return "{ gateway: { port: 0 }, state: { dir: '" + dir.resolve("state") + "' },"
                + " messages: { queue: { mode: 'followup', debounceMs: 0 } },"
                + " channels: { telegram: { enabled: true, botToken: '" + TOKEN + "', apiBaseUrl: '" + telegram.apiBaseUrl()
                + "', pollTimeoutS: " + pollTimeoutS + telegramMore + " } }" + more + " }";
    }

    private JsonNode status() {
        return client.rpc("status").body().path("payload");
    }

    private static Map<Long, List<Sent>> byChat(List<Sent> sent) {
        return sent.stream().collect(Collectors.groupingBy(Sent::chatId));
    }

    @Test
    void privateChatsAGroupAndAForumTopicAreEachAnsweredInTheirOwnPlaceAndAnUnmentionedGroupMessageIsNot()
            throws Exception {
        start("", "");
        telegram.privateText(100, "Ann", "hello from ann");
        telegram.privateText(200, "Bob", "hello from bob");
        telegram.groupText(-500, 100, "just chatting among ourselves");
        telegram.groupText(-500, 200, "@ferrybot are you there");
        telegram.topicText(-600, 7, 100, "@ferrybot in the topic");
        telegram.editedText(100, 100, 1, "an edit is not a new message");

        List<Sent> sent = telegram.awaitSent(4, PATIENCE);
        Map<Long, List<Sent>> replies = byChat(sent);
        assertThat(replies.get(100L)).extracting(Sent::text).containsExactly("echo: hello from ann");
        assertThat(replies.get(200L)).extracting(Sent::text).containsExactly("echo: hello from bob");
        assertThat(replies.get(-500L)).extracting(Sent::text).containsExactly("echo: are you there");
        assertThat(replies.get(-600L)).extracting(Sent::text, Sent::threadId).containsExactly(
                org.assertj.core.api.Assertions.tuple("echo: in the topic", 7));
        assertThat(sent).allSatisfy(reply -> assertThat(reply.replyToMessageId()).as("answers its message").isNotNull());
        assertThat(replies.get(-500L).get(0).threadId()).isNull();

        JsonNode channel = status().path("channels").path("telegram");
        assertThat(channel.path("state").asText()).isEqualTo("polling");
        assertThat(channel.path("bot").asText()).isEqualTo("@ferrybot");
        assertThat(channel.path("ignored").path("not_mentioned").asLong()).isEqualTo(1);
        await().atMost(PATIENCE).until(() -> status().path("channels").path("telegram").path("ignored")
                .path("edited_message").asLong() == 1);
        assertThat(telegram.chatActions()).extracting(FakeTelegramServer.ChatAction::chatId).contains(100L, 200L);
        assertThat(telegram.calls("getUpdates")).allSatisfy(call ->
                assertThat(call.params().path("allowed_updates").toString()).isEqualTo("[\"message\"]"));
        // Nothing is answered twice, and the unmentioned message never comes back: it was confirmed with the rest.
        await().atMost(PATIENCE).until(() -> telegram.storedUpdates() == 0);
        assertThat(telegram.sent()).hasSize(4);
    }

    @Test
    void aBotCommandWithTheBotsNameReachesTheChatCommands() throws Exception {
        start("", "");
        telegram.groupText(-500, 100, "/status@ferrybot");

        Sent reply = telegram.awaitSent(1, PATIENCE).get(0);
        assertThat(reply.chatId()).isEqualTo(-500);
        assertThat(reply.text()).doesNotStartWith("echo:").containsIgnoringCase("queue");
    }

    @Test
    void aLongReplyArrivesInTwoPartsInOrderAfterA429IsWaitedOut() throws Exception {
        // A program that answers with about 5,400 characters over many lines.
        start("", ", agent: { backend: 'command', command: { argv: ['sh', '-c',"
                + " 'for i in $(seq 1 120); do echo \"line $i of a long answer, padded to some length\"; done'] } }");
        telegram.failNextWithRetryAfter("sendMessage", 1, 1);
        telegram.privateText(100, "Ann", "tell me everything");

        List<Sent> parts = telegram.awaitSent(2, PATIENCE);
        assertThat(parts).extracting(Sent::chatId).containsOnly(100L);
        assertThat(parts.get(0).text()).startsWith("line 1 of").hasSizeLessThanOrEqualTo(4096);
        assertThat(parts.get(1).text()).endsWith("line 120 of a long answer, padded to some length");
        assertThat(parts.get(0).replyToMessageId()).isNotNull();
        assertThat(parts.get(0).text().length() + parts.get(1).text().length()).isGreaterThan(5000);

        List<FakeTelegramServer.Call> sends = telegram.calls("sendMessage");
        assertThat(sends.get(0).status()).isEqualTo(429);
        long waitedMs = TimeUnit.NANOSECONDS.toMillis(sends.get(1).atNanos() - sends.get(0).atNanos());
        assertThat(waitedMs).as("the retry_after of 1 s was honoured").isGreaterThanOrEqualTo(950);
    }

    @Test
    void aBlockedBotFailsThatReplyAloneAndTheSessionsNextReplyIsDelivered() throws Exception {
        start("", "");
        telegram.failNext("sendMessage", 1, 403, "Forbidden: bot was blocked by the user");
        telegram.privateText(100, "Ann", "first");
        await().atMost(PATIENCE).until(() -> status().path("outbox").path("failed").asLong() == 1);

        telegram.privateText(100, "Ann", "second");
        Sent next = telegram.awaitSent(1, PATIENCE).get(0);
        assertThat(next.text()).isEqualTo("echo: second");
        JsonNode failed = client.rpc("replies.failed").body().path("payload");
        assertThat(failed.toString()).contains("blocked by the user").doesNotContain(TOKEN);
    }

    @Test
    void aReplyToATopicThatIsGoneIsSentOnceMoreWithoutTheTopic() throws Exception {
        start("", "");
        telegram.removeTopic(-600, 9);
        telegram.topicText(-600, 9, 100, "@ferrybot anyone?");

        Sent reply = telegram.awaitSent(1, PATIENCE).get(0);
        assertThat(reply.chatId()).isEqualTo(-600);
        assertThat(reply.threadId()).isNull();
        assertThat(reply.text()).isEqualTo("echo: anyone?");
    }

    @Test
    void aUserOutsideAllowFromGetsNoReplyAndIsCounted() throws Exception {
        start(", allowFrom: ['100']", "");
        telegram.privateText(999, "Eve", "let me in");
        telegram.privateText(100, "Ann", "hello");

        assertThat(telegram.awaitSent(1, PATIENCE)).extracting(Sent::chatId).containsExactly(100L);
        await().atMost(PATIENCE).until(() -> telegram.storedUpdates() == 0);
        assertThat(status().path("channels").path("telegram").path("ignored").path("not_allowed").asLong()).isEqualTo(1);
        assertThat(client.get("/metrics", null).raw())
                .contains("ferry_telegram_updates_ignored_total{reason=\"not_allowed\"} 1.0");
        assertThat(telegram.sent()).hasSize(1);
    }

    @Test
    void aReloadDuringAStreamLosesAndRepeatsNoUpdateAndThePollerResumesWithinASecond() throws Exception {
        start("", "");
        int chats = 3;
        int perChat = 20;
        Thread feeder = new Thread(() -> {
            for (int i = 0; i < perChat; i++) {
                for (int chat = 1; chat <= chats; chat++) {
                    telegram.privateText(chat, "user" + chat, "tok-" + chat + "-" + i);
                }
                pause(15);
            }
        });
        feeder.start();
        await().atMost(PATIENCE).until(() -> telegram.sent().size() >= 10);

        // A change to channels.telegram: only the poller restarts.
        Files.writeString(file, config(2, "", ""));
        long before = System.nanoTime();
        GatewayClient.Answer reload = client.rpc("gateway.reload");
        assertThat(reload.status()).as(reload.raw()).isEqualTo(200);
        long reloaded = System.nanoTime();
        // The first poll of the new poller: the only ones asking for the new timeout.
        await().atMost(PATIENCE).until(() -> telegram.calls("getUpdates").stream()
                .anyMatch(call -> call.params().path("timeout").asInt() == 2));
        long resumedAt = telegram.calls("getUpdates").stream().filter(call -> call.params().path("timeout").asInt() == 2)
                .mapToLong(FakeTelegramServer.Call::atNanos).min().orElseThrow();
        assertThat(TimeUnit.NANOSECONDS.toMillis(resumedAt - before)).as("the new poller polls within a second")
                .isLessThan(1000);

        feeder.join(PATIENCE.toMillis());
        await().atMost(PATIENCE).until(() -> telegram.sent().size() >= chats * perChat);
        Map<String, Long> answers = telegram.sent().stream()
                .collect(Collectors.groupingBy(Sent::text, Collectors.counting()));
        assertThat(answers).hasSize(chats * perChat);
        assertThat(answers.values()).as("no update answered twice").containsOnly(1L);
        assertThat(TimeUnit.NANOSECONDS.toMillis(reloaded - before)).isLessThan(5000);
    }

    @Test
    void aWrongTokenAndAWebhookOnTheBotAreReportedInStatusAndPollingRecoversOnItsOwn() throws Exception {
        telegram = FakeTelegramServer.start(TOKEN, "ferrybot");
        telegram.unauthorized(true);
        start("", "");
        await().atMost(PATIENCE).until(() -> status().path("channels").path("telegram").path("state").asText()
                .equals("unauthorized"));
        JsonNode refused = status().path("channels").path("telegram");
        assertThat(refused.path("problem").asText()).contains("refused the bot token").doesNotContain(TOKEN);

        telegram.unauthorized(false);
        telegram.webhookSet(true);
        await().atMost(Duration.ofSeconds(45)).until(() -> status().path("channels").path("telegram").path("state")
                .asText().equals("conflict"));
        assertThat(status().path("channels").path("telegram").path("problem").asText()).contains("webhook");

        telegram.webhookSet(false);
        telegram.privateText(100, "Ann", "are you back?");
        assertThat(telegram.awaitSent(1, Duration.ofSeconds(45)).get(0).text()).isEqualTo("echo: are you back?");
        assertThat(status().path("channels").path("telegram").path("state").asText()).isEqualTo("polling");
        assertThat(client.rpc("config.get").raw()).doesNotContain(TOKEN);
        assertThat(client.get("/metrics", null).raw()).doesNotContain(TOKEN);
    }

    @Test
    void anOutageOfTheBotApiIsWaitedOutAndPollingRecoversWithoutLosingAnUpdate() throws Exception {
        start("", "");
        telegram.awaitPollHeld(PATIENCE);
        telegram.dropNext("getUpdates", 3);
        telegram.privateText(100, "Ann", "sent during the outage");

        await().atMost(PATIENCE).until(() -> telegram.calls("getUpdates").stream().filter(call -> call.status() == 0)
                .count() >= 2);
        assertThat(status().path("channels").path("telegram").path("problem").asText()).contains("cannot be reached");
        assertThat(telegram.awaitSent(1, PATIENCE).get(0).text()).isEqualTo("echo: sent during the outage");
        await().atMost(PATIENCE).until(() -> status().path("channels").path("telegram").path("state").asText()
                .equals("polling"));
        assertThat(telegram.sent()).hasSize(1);
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
