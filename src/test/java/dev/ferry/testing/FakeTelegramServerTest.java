package dev.ferry.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The fake Telegram server itself, through the JDK's HTTP client as a Bot API client would call it. */
class FakeTelegramServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "123456:SECRET-token_value";
    private static final Duration WAIT = Duration.ofSeconds(5);

    /** One client for the class: the JDK's client on Java 17 cannot be closed, so one per test would leave threads behind. */
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(WAIT).build();

    private FakeTelegramServer telegram;

    @BeforeEach
    void start() throws Exception {
        telegram = FakeTelegramServer.start(TOKEN, "FerryBot");
    }

    @AfterEach
    void stop() throws Exception {
        telegram.close();
    }

    @Test
    void getMeDescribesTheBot() throws Exception {
        Answer answer = call("getMe", "{}");

        assertThat(answer.status).isEqualTo(200);
        assertThat(answer.contentType).startsWith("application/json");
        assertThat(answer.body.path("ok").asBoolean()).isTrue();
        JsonNode me = answer.body.path("result");
        assertThat(me.path("id").asLong()).isEqualTo(123456L).isEqualTo(telegram.botId());
        assertThat(me.path("is_bot").asBoolean()).isTrue();
        assertThat(me.path("first_name").asText()).isEqualTo("Ferry");
        assertThat(me.path("username").asText()).isEqualTo("FerryBot");
        assertThat(me.path("can_join_groups").asBoolean()).isTrue();
        assertThat(me.path("can_read_all_group_messages").isBoolean()).isTrue();
        assertThat(me.path("supports_inline_queries").isBoolean()).isTrue();
    }

    @Test
    void aWrongTokenIsUnauthorizedAndNotEchoed() throws Exception {
        Answer answer = send(HttpRequest.newBuilder(URI.create(telegram.apiBaseUrl() + "/bot999:wrong/getMe"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).header("Content-Type", "application/json").build());

        assertThat(answer.status).isEqualTo(401);
        assertThat(answer.body.path("ok").asBoolean()).isFalse();
        assertThat(answer.body.path("error_code").asInt()).isEqualTo(401);
        assertThat(answer.body.path("description").asText()).isEqualTo("Unauthorized");
        assertThat(answer.body.toString()).doesNotContain("999:wrong").doesNotContain(TOKEN);
    }

    @Test
    void anUnknownMethodIsNotFound() throws Exception {
        Answer answer = call("sendTelepathy", "{}");

        assertThat(answer.status).isEqualTo(404);
        assertThat(answer.body.path("description").asText()).isEqualTo("Not Found");
    }

    @Test
    void getUpdatesConfirmsWithTheOffsetForever() throws Exception {
        long first = telegram.privateText(42, "Ada", "hello");
        long second = telegram.privateText(42, "Ada", "again");
        assertThat(first).isEqualTo(1000);
        assertThat(second).isEqualTo(1001);

        JsonNode all = call("getUpdates", "{}").body.path("result");
        assertThat(all).hasSize(2);
        assertThat(all.get(0).path("update_id").asLong()).isEqualTo(first);
        JsonNode message = all.get(0).path("message");
        assertThat(message.path("message_id").asLong()).isEqualTo(1);
        assertThat(message.path("from").path("id").asLong()).isEqualTo(42);
        assertThat(message.path("from").path("is_bot").asBoolean()).isFalse();
        assertThat(message.path("chat").path("type").asText()).isEqualTo("private");
        assertThat(message.path("chat").path("first_name").asText()).isEqualTo("Ada");
        assertThat(message.path("text").asText()).isEqualTo("hello");
        assertThat(all.get(1).path("message").path("message_id").asLong()).isEqualTo(2);

        JsonNode rest = call("getUpdates", "{\"offset\":" + second + "}").body.path("result");
        assertThat(rest).hasSize(1);
        assertThat(rest.get(0).path("update_id").asLong()).isEqualTo(second);
        assertThat(telegram.storedUpdates()).isEqualTo(1);
        assertThat(telegram.confirmedOffset()).isEqualTo(second);

        JsonNode withoutOffset = call("getUpdates", "{}").body.path("result");
        assertThat(withoutOffset).hasSize(1);
        assertThat(withoutOffset.get(0).path("update_id").asLong()).isEqualTo(second);

        assertThat(call("getUpdates", "{\"offset\":" + (second + 1) + "}").body.path("result")).isEmpty();
        assertThat(telegram.storedUpdates()).isZero();
    }

    @Test
    void getUpdatesHonoursTheLimitAndReadsFormAndQueryParameters() throws Exception {
        telegram.privateText(7, "Bo", "one");
        telegram.privateText(7, "Bo", "two");
        telegram.privateText(7, "Bo", "three");

        Answer byQuery = send(HttpRequest.newBuilder(URI.create(url("getUpdates") + "?limit=2&offset=1001")).GET().build());
        assertThat(byQuery.body.path("result")).hasSize(2);
        assertThat(byQuery.body.path("result").get(0).path("update_id").asLong()).isEqualTo(1001);

        Answer byForm = send(HttpRequest.newBuilder(URI.create(url("getUpdates")))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("offset=1002&allowed_updates="
                        + URLEncoder.encode("[\"message\",\"edited_message\"]", StandardCharsets.UTF_8))).build());
        assertThat(byForm.body.path("result")).hasSize(1);
        assertThat(telegram.allowedUpdates()).containsExactly("message", "edited_message");
    }

    @Test
    void aHeldLongPollIsAnsweredAsSoonAsAnUpdateArrives() throws Exception {
        CompletableFuture<Answer> poll = callAsync("getUpdates", "{\"timeout\":30}");
        telegram.awaitPollHeld(WAIT);
        assertThat(poll).isNotDone();

        long enqueuedAt = System.nanoTime();
        long id = telegram.privateText(42, "Ada", "wake up");
        Answer answer = poll.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        assertThat(Duration.ofNanos(System.nanoTime() - enqueuedAt)).isLessThan(Duration.ofSeconds(1));
        assertThat(answer.status).isEqualTo(200);
        assertThat(answer.body.path("result")).hasSize(1);
        assertThat(answer.body.path("result").get(0).path("update_id").asLong()).isEqualTo(id);
        assertThat(answer.body.path("result").get(0).path("message").path("text").asText()).isEqualTo("wake up");
        assertThat(telegram.pollHeld()).isFalse();
    }

    @Test
    void aHeldLongPollAnswersEmptyAfterItsTimeout() throws Exception {
        long started = System.nanoTime();
        Answer answer = call("getUpdates", "{\"timeout\":1}");

        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(950));
        assertThat(answer.status).isEqualTo(200);
        assertThat(answer.body.path("result").isArray()).isTrue();
        assertThat(answer.body.path("result")).isEmpty();
    }

    @Test
    void aSecondPollTerminatesTheFirstWithAConflict() throws Exception {
        CompletableFuture<Answer> first = callAsync("getUpdates", "{\"timeout\":30}");
        telegram.awaitPollHeld(WAIT);
        CompletableFuture<Answer> second = callAsync("getUpdates", "{\"timeout\":30}");

        Answer conflicted = first.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(conflicted.status).isEqualTo(409);
        assertThat(conflicted.body.path("error_code").asInt()).isEqualTo(409);
        assertThat(conflicted.body.path("description").asText())
                .isEqualTo("Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
        assertThat(second).isNotDone();
        assertThat(telegram.pollHeld()).isTrue();

        long id = telegram.groupText(-100_1234, 42, "for the newer poll");
        Answer answered = second.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(answered.status).isEqualTo(200);
        assertThat(answered.body.path("result").get(0).path("update_id").asLong()).isEqualTo(id);
    }

    @Test
    void aPollerThatGoesAwayWhileHeldDoesNotBreakTheServer() throws Exception {
        URI base = URI.create(telegram.apiBaseUrl());
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            byte[] body = "{\"timeout\":30}".getBytes(StandardCharsets.UTF_8);
            String head = "POST /bot" + TOKEN + "/getUpdates HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            telegram.awaitPollHeld(WAIT);
        }

        long id = telegram.privateText(42, "Ada", "to nobody");   // answers the poll whose client is gone

        JsonNode updates = call("getUpdates", "{}").body.path("result");
        assertThat(updates).hasSize(1);
        assertThat(updates.get(0).path("update_id").asLong()).isEqualTo(id);
        assertThat(call("getMe", "{}").status).isEqualTo(200);
    }

    @Test
    void closingAnswersAHeldPoll() throws Exception {
        CompletableFuture<Answer> poll = callAsync("getUpdates", "{\"timeout\":30}");
        telegram.awaitPollHeld(WAIT);

        telegram.close();

        Answer answer = poll.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(answer.status).isEqualTo(200);
        assertThat(answer.body.path("result")).isEmpty();
    }

    @Test
    void aWebhookMakesGetUpdatesConflictUntilDeleted() throws Exception {
        telegram.webhookSet(true);
        Answer refused = call("getUpdates", "{}");
        assertThat(refused.status).isEqualTo(409);
        assertThat(refused.body.path("description").asText()).startsWith("Conflict: can't use getUpdates method while webhook");

        assertThat(call("deleteWebhook", "{}").body.path("result").asBoolean()).isTrue();
        assertThat(call("getUpdates", "{}").status).isEqualTo(200);
    }

    @Test
    void sendMessageIsRecordedWithItsReplyAndThread() throws Exception {
        long chat = -100_5555;
        telegram.topicText(chat, 7, 42, "question in a topic");

        Answer answer = call("sendMessage", """
                {"chat_id":%d,"message_thread_id":7,"text":"an answer","reply_parameters":{"message_id":1}}
                """.formatted(chat));

        assertThat(answer.status).isEqualTo(200);
        JsonNode message = answer.body.path("result");
        assertThat(message.path("message_id").asLong()).isEqualTo(2);
        assertThat(message.path("chat").path("id").asLong()).isEqualTo(chat);
        assertThat(message.path("chat").path("type").asText()).isEqualTo("supergroup");
        assertThat(message.path("from").path("id").asLong()).isEqualTo(telegram.botId());
        assertThat(message.path("from").path("is_bot").asBoolean()).isTrue();
        assertThat(message.path("message_thread_id").asInt()).isEqualTo(7);
        assertThat(message.path("text").asText()).isEqualTo("an answer");
        assertThat(message.path("date").asLong()).isPositive();
        assertThat(telegram.sent()).containsExactly(new FakeTelegramServer.Sent(chat, 7, "an answer", 1L, 2));
        assertThat(telegram.awaitSent(1, WAIT)).hasSize(1);

        call("sendMessage", "{\"chat_id\":\"42\",\"text\":\"older reply form\",\"reply_to_message_id\":5}");
        assertThat(telegram.sent().get(1)).isEqualTo(new FakeTelegramServer.Sent(42, null, "older reply form", 5L, 1));
        assertThat(telegram.calls("sendMessage")).extracting(FakeTelegramServer.Call::status).containsExactly(200, 200);
    }

    @Test
    void sendChatActionIsRecorded() throws Exception {
        Answer answer = call("sendChatAction", "{\"chat_id\":42,\"action\":\"typing\"}");

        assertThat(answer.body.path("result").asBoolean()).isTrue();
        assertThat(telegram.chatActions()).containsExactly(new FakeTelegramServer.ChatAction(42, null, "typing"));
    }

    @Test
    void anEmptyOrTooLongTextIsABadRequest() throws Exception {
        Answer empty = call("sendMessage", "{\"chat_id\":42,\"text\":\"\"}");
        assertThat(empty.status).isEqualTo(400);
        assertThat(empty.body.path("description").asText()).isEqualTo("Bad Request: message text is empty");

        Answer tooLong = call("sendMessage", JSON.createObjectNode().put("chat_id", 42).put("text", "x".repeat(4097)).toString());
        assertThat(tooLong.status).isEqualTo(400);
        assertThat(tooLong.body.path("error_code").asInt()).isEqualTo(400);
        assertThat(tooLong.body.path("description").asText()).isEqualTo("Bad Request: message is too long");

        assertThat(call("sendMessage", JSON.createObjectNode().put("chat_id", 42).put("text", "x".repeat(4096)).toString())
                .status).isEqualTo(200);
        assertThat(telegram.sent()).hasSize(1);
    }

    @Test
    void retryAfterIsA429WithParametersThenSuccess() throws Exception {
        telegram.failNextWithRetryAfter("sendMessage", 1, 3);

        Answer limited = call("sendMessage", "{\"chat_id\":42,\"text\":\"hi\"}");
        assertThat(limited.status).isEqualTo(429);
        assertThat(limited.body.path("ok").asBoolean()).isFalse();
        assertThat(limited.body.path("error_code").asInt()).isEqualTo(429);
        assertThat(limited.body.path("description").asText()).isEqualTo("Too Many Requests: retry after 3");
        assertThat(limited.body.path("parameters").path("retry_after").asInt()).isEqualTo(3);
        assertThat(telegram.sent()).isEmpty();

        assertThat(call("sendMessage", "{\"chat_id\":42,\"text\":\"hi\"}").status).isEqualTo(200);
        assertThat(telegram.calls("sendMessage")).extracting(FakeTelegramServer.Call::status).containsExactly(429, 200);
    }

    @Test
    void failNextAnswersTheScriptedError() throws Exception {
        telegram.failNext("getMe", 2, 502, "Bad Gateway");

        assertThat(call("getMe", "{}").status).isEqualTo(502);
        assertThat(call("getMe", "{}").body.path("description").asText()).isEqualTo("Bad Gateway");
        assertThat(call("getMe", "{}").status).isEqualTo(200);
    }

    @Test
    void aBlockedChatIsForbidden() throws Exception {
        telegram.blockChat(42);

        Answer answer = call("sendMessage", "{\"chat_id\":42,\"text\":\"hi\"}");
        assertThat(answer.status).isEqualTo(403);
        assertThat(answer.body.path("description").asText()).isEqualTo("Forbidden: bot was blocked by the user");
        assertThat(call("sendChatAction", "{\"chat_id\":42,\"action\":\"typing\"}").status).isEqualTo(403);
        assertThat(telegram.sent()).isEmpty();
        assertThat(telegram.chatActions()).isEmpty();
    }

    @Test
    void aRemovedTopicIsABadRequest() throws Exception {
        telegram.removeTopic(-100_77, 3);

        Answer answer = call("sendMessage", "{\"chat_id\":-10077,\"message_thread_id\":3,\"text\":\"hi\"}");
        assertThat(answer.status).isEqualTo(400);
        assertThat(answer.body.path("description").asText()).isEqualTo("Bad Request: message thread not found");
        assertThat(call("sendMessage", "{\"chat_id\":-10077,\"message_thread_id\":4,\"text\":\"hi\"}").status).isEqualTo(200);
    }

    @Test
    void unauthorizedMakesEveryCallA401WhileOn() throws Exception {
        telegram.unauthorized(true);
        assertThat(call("getMe", "{}").status).isEqualTo(401);
        telegram.unauthorized(false);
        assertThat(call("getMe", "{}").status).isEqualTo(200);
    }

    @Test
    void dropNextClosesTheConnectionWithoutAnAnswer() throws Exception {
        telegram.dropNext("sendMessage", 1);

        assertThatThrownBy(() -> call("sendMessage", "{\"chat_id\":42,\"text\":\"lost\"}")).isInstanceOf(IOException.class);
        assertThat(telegram.sent()).isEmpty();

        assertThat(call("sendMessage", "{\"chat_id\":42,\"text\":\"kept\"}").status).isEqualTo(200);
        assertThat(telegram.sent()).extracting(FakeTelegramServer.Sent::text).containsExactly("kept");
        assertThat(telegram.calls("sendMessage")).extracting(FakeTelegramServer.Call::status).containsExactly(0, 200);
    }

    @Test
    void aMentionOfTheBotInAGroupHasAMentionEntity() throws Exception {
        String text = "\uD83D\uDC4B hi @FerryBot, a question";   // the wave is two UTF-16 code units
        telegram.groupText(-100_42, 7, text);

        JsonNode message = call("getUpdates", "{}").body.path("result").get(0).path("message");
        assertThat(message.path("chat").path("type").asText()).isEqualTo("supergroup");
        assertThat(message.path("chat").path("title").asText()).isEqualTo("Group -10042");
        JsonNode entities = message.path("entities");
        assertThat(entities).hasSize(1);
        assertThat(entities.get(0).path("type").asText()).isEqualTo("mention");
        assertThat(entities.get(0).path("offset").asInt()).isEqualTo(6);
        assertThat(entities.get(0).path("length").asInt()).isEqualTo("@FerryBot".length());
        int offset = entities.get(0).path("offset").asInt();
        assertThat(text.substring(offset, offset + entities.get(0).path("length").asInt())).isEqualTo("@FerryBot");
    }

    @Test
    void aCommandHasABotCommandEntity() throws Exception {
        telegram.privateText(42, "Ada", "/start@FerryBot now");

        JsonNode entities = call("getUpdates", "{}").body.path("result").get(0).path("message").path("entities");
        assertThat(entities).hasSize(1);
        assertThat(entities.get(0).path("type").asText()).isEqualTo("bot_command");
        assertThat(entities.get(0).path("offset").asInt()).isZero();
        assertThat(entities.get(0).path("length").asInt()).isEqualTo("/start@FerryBot".length());
    }

    @Test
    void messageIdsAreSharedBetweenUsersAndTheBotInAChat() throws Exception {
        telegram.groupText(-100_9, 1, "first");
        Answer reply = call("sendMessage", "{\"chat_id\":-1009,\"text\":\"bot\"}");
        long botMessage = reply.body.path("result").path("message_id").asLong();
        telegram.groupReplyToBot(-100_9, 1, "thanks", botMessage);
        telegram.photo(5, 5, "a cat");
        ObjectNode raw = JSON.createObjectNode();
        raw.putObject("callback_query").put("id", "cb1");
        long rawId = telegram.rawUpdate(raw);

        JsonNode updates = call("getUpdates", "{}").body.path("result");
        assertThat(botMessage).isEqualTo(2);
        JsonNode thanks = updates.get(1).path("message");
        assertThat(thanks.path("message_id").asLong()).isEqualTo(3);
        assertThat(thanks.path("reply_to_message").path("message_id").asLong()).isEqualTo(botMessage);
        assertThat(thanks.path("reply_to_message").path("from").path("is_bot").asBoolean()).isTrue();
        JsonNode photo = updates.get(2).path("message");
        assertThat(photo.path("photo")).hasSize(2);
        assertThat(photo.path("photo").get(1).path("file_id").asText()).isNotEmpty();
        assertThat(photo.path("caption").asText()).isEqualTo("a cat");
        assertThat(updates.get(3).path("update_id").asLong()).isEqualTo(rawId);
        assertThat(updates.get(3).path("callback_query").path("id").asText()).isEqualTo("cb1");
    }

    private String url(String method) {
        return telegram.apiBaseUrl() + "/bot" + TOKEN + "/" + method;
    }

    private HttpRequest request(String method, String json) {
        return HttpRequest.newBuilder(URI.create(url(method))).timeout(Duration.ofSeconds(40))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }

    private Answer call(String method, String json) throws IOException, InterruptedException {
        return send(request(method, json));
    }

    private CompletableFuture<Answer> callAsync(String method, String json) {
        return HTTP.sendAsync(request(method, json), HttpResponse.BodyHandlers.ofString()).thenApply(Answer::of);
    }

    private Answer send(HttpRequest request) throws IOException, InterruptedException {
        return Answer.of(HTTP.send(request, HttpResponse.BodyHandlers.ofString()));
    }

    /** An answer's status, content type and parsed body. */
    private record Answer(int status, String contentType, JsonNode body) {
        static Answer of(HttpResponse<String> response) {
            try {
                return new Answer(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""),
                        JSON.readTree(response.body()));
            } catch (IOException e) {
                throw new IllegalStateException("not JSON: " + response.body(), e);
            }
        }
    }
}
