package dev.ferry.channel.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.Secret;
import dev.ferry.intake.Intake;
import dev.ferry.intake.IntakeResponse;
import dev.ferry.journal.AppendResult;
import dev.ferry.journal.ForwardingJournal;
import dev.ferry.journal.InMemoryJournal;
import dev.ferry.journal.InboundMessage;
import dev.ferry.journal.JournalStats;
import dev.ferry.journal.JournalUnavailableException;
import dev.ferry.journal.Media;
import dev.ferry.time.WallClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

class WebhookInboundTest {

    private static final String AUTH = "Bearer hook-token";
    /** A fixed date: the receive time of every message this test posts. */
    private static final WallClock CLOCK = () -> 1_767_225_600_000L;

    private final InMemoryJournal journal = new InMemoryJournal();
    private final List<InboundMessage> handedOn = Collections.synchronizedList(new ArrayList<>());
    private final WebhookInbound webhook = new WebhookInbound(
            new Intake(journal, handedOn::add, new SimpleMeterRegistry()), Secret.of("hook-token"), CLOCK);

    @Test
    void acceptsAWellFormedMessageWith202AndSeq() {
        IntakeResponse response = post(AUTH, """
                {"messageId": "m1", "conversation": "c1", "sender": "alice", "text": "hello", "threadId": "t7",
                 "extra": "ignored"}""");

        assertThat(response.status()).isEqualTo(202);
        assertThat(response.body()).hasToString("{\"accepted\":true,\"duplicate\":false,\"seq\":1}");
        InboundMessage message = journal.pendingMessages().get(0);
        assertThat(message).isEqualTo(new InboundMessage(1, "webhook", "default", "c1", "alice", "m1", "hello", "t7",
                null, List.of(), message.receivedAtEpochMs()));
        assertThat(handedOn).containsExactly(message);
    }

    @Test
    void receiveTimeIsReadFromTheWallClockItIsGiven() {
        post(AUTH, body("m1", "c1", "alice", "hello"));

        assertThat(journal.pendingMessages().get(0).receivedAtEpochMs()).isEqualTo(CLOCK.epochMillis());
    }

    @Test
    void secondMessageGetsTheNextSeq() {
        post(AUTH, body("m1", "c1", "alice", "one"));

        IntakeResponse response = post(AUTH, body("m2", "c1", "alice", "two"));

        assertThat(response.status()).isEqualTo(202);
        assertThat(response.body().get("seq").asLong()).isEqualTo(2);
    }

    @Test
    void repeatedMessageIdAnswers200Duplicate() {
        post(AUTH, body("m1", "c1", "alice", "hello"));

        IntakeResponse response = post(AUTH, body("m1", "c1", "alice", "hello"));

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.body()).hasToString("{\"accepted\":true,\"duplicate\":true}");
        assertThat(journal.pendingMessages()).hasSize(1);
        assertThat(handedOn).hasSize(1);
    }

    @Test
    void sameMessageIdInAnotherConversationIsAccepted() {
        post(AUTH, body("m1", "c1", "alice", "hello"));

        IntakeResponse response = post(AUTH, body("m1", "c2", "alice", "hello"));

        assertThat(response.status()).isEqualTo(202);
    }

    @Test
    void missingFieldsAreListedWith400() {
        IntakeResponse response = post(AUTH, "{\"text\": \"hello\"}");

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.body().get("accepted").asBoolean()).isFalse();
        assertThat(response.body().at("/error/code").asText()).isEqualTo("INVALID_REQUEST");
        assertThat(details(response)).containsExactly("messageId: required", "conversation: required",
                "sender: required");
        assertThat(response.body().at("/error/message").asText())
                .isEqualTo("messageId: required; conversation: required; sender: required");
    }

    @Test
    void wrongTypesAreRejected() {
        IntakeResponse response = post(AUTH, """
                {"messageId": true, "conversation": {"id": 1}, "sender": ["alice"], "text": 5, "threadId": 1.5,
                 "media": "http://x/a.png"}""");

        assertThat(response.status()).isEqualTo(400);
        assertThat(details(response)).containsExactly(
                "messageId: must be a string or an integer, got a boolean",
                "conversation: must be a string or an integer, got an object",
                "sender: must be a string or an integer, got a list",
                "threadId: must be a string or an integer, got a number",
                "text: must be a string, got a number",
                "media: must be a list, got a string");
    }

    @Test
    void malformedMediaItemsAreNamedByIndex() {
        IntakeResponse response = post(AUTH, """
                {"messageId": "m1", "conversation": "c1", "sender": "alice",
                 "media": [{"url": "http://x/a.png"}, "b.png", {"mimeType": "image/png"}, {"url": "u", "mimeType": 3}]}""");

        assertThat(response.status()).isEqualTo(400);
        assertThat(details(response)).containsExactly(
                "media[1]: must be an object with url and mimeType, got a string",
                "media[2].url: required string",
                "media[3].mimeType: must be a string, got a number");
    }

    @Test
    void mediaWithoutTextIsAccepted() {
        IntakeResponse response = post(AUTH, """
                {"messageId": "m1", "conversation": "c1", "sender": "alice",
                 "media": [{"url": "http://x/a.png", "mimeType": "image/png"}, {"url": "http://x/b"}]}""");

        assertThat(response.status()).isEqualTo(202);
        InboundMessage message = journal.pendingMessages().get(0);
        assertThat(message.text()).isEmpty();
        assertThat(message.media()).containsExactly(new Media("http://x/a.png", "image/png"),
                new Media("http://x/b", null));
    }

    @Test
    void emptyTextWithoutMediaIsRejected() {
        IntakeResponse response = post(AUTH, body("m1", "c1", "alice", ""));

        assertThat(response.status()).isEqualTo(400);
        assertThat(details(response)).containsExactly("text: must not be empty unless media is given");
    }

    @Test
    void blankAndOverlongIdsAreRejected() {
        IntakeResponse response = post(AUTH, body("  ", "c".repeat(257), "alice", "hi"));

        assertThat(response.status()).isEqualTo(400);
        assertThat(details(response)).containsExactly("messageId: must not be blank",
                "conversation: must be at most 256 characters, got 257");
    }

    @Test
    void malformedJsonIs400() {
        IntakeResponse response = post(AUTH, "{\"messageId\": \"m1\",");

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.body().at("/error/code").asText()).isEqualTo("INVALID_JSON");
        assertThat(response.body().at("/error/message").asText()).startsWith("body: not valid JSON");
    }

    @Test
    void bodyThatIsNotAnObjectIs400() {
        for (String body : List.of("[]", "\"text\"", "42", "")) {
            IntakeResponse response = post(AUTH, body);

            assertThat(response.status()).as("body <%s>", body).isEqualTo(400);
            assertThat(response.body().get("accepted").asBoolean()).isFalse();
        }
        assertThat(details(post(AUTH, "[]"))).containsExactly("body: must be a JSON object");
    }

    @Test
    void missingTokenIs401() {
        IntakeResponse response = post(null, body("m1", "c1", "alice", "hi"));

        assertThat(response.status()).isEqualTo(401);
        assertThat(response.body().at("/error/code").asText()).isEqualTo("UNAUTHORIZED");
        assertThat(response.body().at("/error/message").asText()).isEqualTo("missing bearer token");
    }

    @Test
    void wrongTokenIs401() {
        IntakeResponse wrong = post("Bearer hook-tokem", body("m1", "c1", "alice", "hi"));
        IntakeResponse otherScheme = post("Basic hook-token", body("m1", "c1", "alice", "hi"));

        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.body().at("/error/message").asText()).isEqualTo("invalid bearer token");
        assertThat(otherScheme.status()).isEqualTo(401);
        assertThat(wrong.body().toString()).doesNotContain("hook-token");
    }

    @Test
    void unauthorisedRequestIsRefusedBeforeItsBodyIsRead() {
        IntakeResponse response = post("Bearer nope", "{not json");

        assertThat(response.status()).isEqualTo(401);
    }

    @Test
    void refusedRequestsLeaveTheJournalUntouched() {
        post(null, body("m1", "c1", "alice", "hi"));
        post("Bearer wrong", body("m2", "c1", "alice", "hi"));
        post(AUTH, "{broken");
        post(AUTH, "{\"messageId\": \"m3\"}");
        post(AUTH, body("m4", "c1", "alice", ""));

        assertThat(journal.stats()).isEqualTo(new JournalStats(0, 0, 0, 0, 0, 0, 0, 0));
        assertThat(handedOn).isEmpty();
        // None of the refused ids was remembered: each is accepted once it arrives well-formed.
        assertThat(post(AUTH, body("m1", "c1", "alice", "hi")).status()).isEqualTo(202);
        assertThat(post(AUTH, body("m3", "c1", "alice", "hi")).status()).isEqualTo(202);
    }

    @Test
    void numericIdsAreAccepted() {
        IntakeResponse response = post(AUTH,
                "{\"messageId\": 42, \"conversation\": -1001234567890, \"sender\": 7, \"text\": \"hi\"}");

        assertThat(response.status()).isEqualTo(202);
        InboundMessage message = journal.pendingMessages().get(0);
        assertThat(message.messageId()).isEqualTo("42");
        assertThat(message.conversation()).isEqualTo("-1001234567890");
        assertThat(message.sender()).isEqualTo("7");
        // The same id sent as text is the same message.
        assertThat(post(AUTH, body("42", "-1001234567890", "7", "hi")).status()).isEqualTo(200);
    }

    @Test
    void withoutAConfiguredTokenAnySenderIsAccepted() {
        WebhookInbound open = new WebhookInbound(new Intake(journal, handedOn::add, new SimpleMeterRegistry()),
                Secret.NONE, CLOCK);

        IntakeResponse response = open.handle(null, body("m1", "c1", "alice", "hi").getBytes(StandardCharsets.UTF_8))
                .join();

        assertThat(response.status()).isEqualTo(202);
    }

    @Test
    void loneSurrogateInAnIdIsRefusedEachTimeAndNothingIsJournaled() {
        String body = "{\"messageId\": \"ls-\\udc00\", \"conversation\": \"c1\", \"sender\": \"alice\", \"text\": \"hi\"}";

        for (int attempt = 0; attempt < 3; attempt++) {
            IntakeResponse response = post(AUTH, body);

            assertThat(response.status()).isEqualTo(400);
            assertThat(response.body().at("/error/code").asText()).isEqualTo("INVALID_JSON");
            assertThat(response.body().at("/error/message").asText())
                    .isEqualTo("body: not valid Unicode at messageId: unpaired surrogate U+DC00");
        }
        assertThat(journal.stats().received()).isZero();
        assertThat(handedOn).isEmpty();
    }

    @Test
    void loneSurrogateAnywhereInTheBodyIsRefusedNamingItsPath() {
        assertThat(message(post(AUTH, "{\"messageId\": \"m1\", \"conversation\": \"c\\ud800\", \"sender\": \"a\", \"text\": \"hi\"}")))
                .contains("at conversation");
        assertThat(message(post(AUTH, "{\"messageId\": \"m1\", \"conversation\": \"c\", \"sender\": \"a\", \"text\": \"hi \\udfff\"}")))
                .contains("at text");
        assertThat(message(post(AUTH, "{\"messageId\": \"m1\", \"conversation\": \"c\", \"sender\": \"a\", "
                + "\"media\": [{\"url\": \"http://x/\\udc00\"}]}"))).contains("at media[0].url");
        assertThat(message(post(AUTH, "{\"messageId\": \"m1\", \"conversation\": \"c\", \"sender\": \"a\", \"text\": \"hi\", "
                + "\"extra\": {\"deep\": [\"\\udc00\"]}}"))).as("fields Ferry ignores too").contains("at extra.deep[0]");
        assertThat(post(AUTH, "{\"messageId\": \"m1\", \"conversation\": \"c\", \"sender\": \"a\", \"\\udc00\": 1, \"text\": \"hi\"}")
                .status()).as("a key").isEqualTo(400);
        assertThat(journal.stats().received()).isZero();
    }

    @Test
    void surrogatePairsAreValidUnicodeAndAccepted() {
        IntakeResponse response = post(AUTH, body("m-\\ud83d\\ude00", "c1", "alice", "smile \\ud83d\\ude00"));

        assertThat(response.status()).isEqualTo(202);
        assertThat(journal.pendingMessages().get(0).messageId()).isEqualTo("m-\ud83d\ude00");
    }

    @Test
    void invalidUtf8BytesAreRefused() {
        byte[] body = body("m1", "c1", "alice", "hi X").getBytes(StandardCharsets.UTF_8);
        body[new String(body, StandardCharsets.UTF_8).indexOf('X')] = (byte) 0xFF;

        IntakeResponse response = webhook.handle(AUTH, body).join();

        assertThat(response.status()).isEqualTo(400);
        assertThat(message(response)).isEqualTo("body: not valid JSON at text: Invalid UTF-8 start byte 0xff");
        assertThat(journal.stats().received()).isZero();
    }

    @Test
    void dataAfterTheObjectIsRefused() {
        String one = body("m1", "c1", "alice", "hi");

        for (String body : List.of(one + " junk", one + one, one + "\n" + body("m2", "c1", "alice", "hi"), one + ",")) {
            IntakeResponse response = post(AUTH, body);

            assertThat(response.status()).as(body).isEqualTo(400);
            assertThat(message(response)).isEqualTo("body: not valid JSON: more data after the JSON value");
        }
        assertThat(post(AUTH, one + " \r\n").status()).as("trailing whitespace is fine").isEqualTo(202);
        assertThat(journal.stats().received()).isEqualTo(1);
    }

    @Test
    void duplicateKeysAreRefusedNamingTheKey() {
        IntakeResponse response = post(AUTH,
                "{\"messageId\": \"m1\", \"conversation\": \"c1\", \"sender\": \"alice\", \"text\": \"a\", \"text\": \"b\"}");

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.body().at("/error/code").asText()).isEqualTo("INVALID_JSON");
        assertThat(message(response)).isEqualTo("body: not valid JSON: Duplicate field 'text'");
        assertThat(journal.stats().received()).isZero();
    }

    @ParameterizedTest(name = "U+{0}")
    @ValueSource(strings = {"200B", "2060", "FEFF", "3164", "2800", "00A0", "3000", "180E", "FE0F", "115F", "FFA0",
            "200B 200C 200D", "202E", "0007", "E0001", "2028"})
    void idsMadeOnlyOfInvisibleCharactersAreRefusedLikeBlankOnes(String codePoints) {
        StringBuilder invisible = new StringBuilder();
        for (String hex : codePoints.split(" ")) {
            invisible.appendCodePoint(Integer.parseInt(hex, 16));
        }
        String id = invisible.toString();
        var tree = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode()
                .put("messageId", id).put("conversation", id).put("sender", id).put("threadId", id).put("text", "hi");

        IntakeResponse response = post(AUTH, tree.toString());

        assertThat(response.status()).isEqualTo(400);
        assertThat(details(response)).hasSize(4).allSatisfy(detail -> assertThat(detail).contains("must not be blank"));
        assertThat(journal.stats().received()).isZero();
    }

    @Test
    void idsWithAVisibleCharacterAmongInvisibleOnesAreAccepted() {
        assertThat(post(AUTH, body("\u200Bm1\u200B", "c\u3164", "\u2800a", "hi")).status()).isEqualTo(202);
    }

    @Test
    void journalThatCannotTakeWritesIsAnswered503WithItsReasonAndRetryAfter() {
        var unavailable = new JournalUnavailableException("journal unavailable: the disk is full (path=/state/journal.db)", null);
        WebhookInbound refusing = new WebhookInbound(new Intake(failingAppends(new CompletionException(
                new IllegalStateException("commit failed", unavailable))), handedOn::add, new SimpleMeterRegistry()),
                Secret.of("hook-token"), CLOCK);

        IntakeResponse response = refusing.handle(AUTH, bytes(body("m1", "c1", "alice", "hi"))).join();

        assertThat(response.status()).isEqualTo(503);
        assertThat(response.retryAfterSeconds()).isEqualTo(5);
        assertThat(response.body()).hasToString("{\"accepted\":false,\"error\":{\"code\":\"JOURNAL_UNAVAILABLE\","
                + "\"message\":\"journal unavailable: the disk is full (path=/state/journal.db)\"}}");
        assertThat(handedOn).isEmpty();
    }

    @Test
    void anyOtherJournalFailureStaysAFault() {
        WebhookInbound failing = new WebhookInbound(new Intake(failingAppends(new IllegalStateException("boom")),
                handedOn::add, new SimpleMeterRegistry()), Secret.of("hook-token"), CLOCK);

        CompletableFuture<IntakeResponse> response = failing.handle(AUTH, bytes(body("m1", "c1", "alice", "hi")));

        assertThat(response).isCompletedExceptionally();
        assertThat(response.handle((ok, failure) -> failure).join()).hasRootCauseMessage("boom");
    }

    private ForwardingJournal failingAppends(Throwable failure) {
        return new ForwardingJournal(journal) {
            @Override
            public CompletableFuture<AppendResult> append(InboundMessage message) {
                return CompletableFuture.failedFuture(failure);
            }
        };
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String message(IntakeResponse response) {
        assertThat(response.status()).as(response.body().toString()).isEqualTo(400);
        return response.body().at("/error/message").asText();
    }

    private IntakeResponse post(String authorization, String body) {
        return webhook.handle(authorization, body.getBytes(StandardCharsets.UTF_8)).join();
    }

    private static String body(String messageId, String conversation, String sender, String text) {
        return "{\"messageId\": \"" + messageId + "\", \"conversation\": \"" + conversation + "\", \"sender\": \""
                + sender + "\", \"text\": \"" + text + "\"}";
    }

    private static List<String> details(IntakeResponse response) {
        List<String> details = new ArrayList<>();
        for (JsonNode detail : response.body().at("/error/details")) {
            details.add(detail.asText());
        }
        return details;
    }
}
