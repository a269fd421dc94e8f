package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayClient.Answer;

/** What the RPCs say about the journal, over real HTTP: {@code sessions.list} in pages, its health in {@code status}. */
class JournalRpcIT {

    @TempDir
    Path state;

    private Gateway gateway;
    private GatewayClient client;

    @BeforeEach
    void start() throws Exception {
        gateway = Gateway.start(ConfigLoader.parse("{ gateway: { port: 0 }, state: { dir: '" + state + "' } }", null));
        client = new GatewayClient(gateway.url(), null);
    }

    @AfterEach
    void stop() {
        gateway.close();
    }

    @Test
    void sessionsListAnswersOnePageWithTheTotalAndTheNextOffset() {
        for (int i = 1; i <= 5; i++) {
            assertThat(client.webhookMessage("m-" + i, "room-" + i, "alice", "hello " + i).status()).isEqualTo(202);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> status().get("sessions").asInt() == 5);

        JsonNode first = page("{\"limit\":2}");
        JsonNode second = page("{\"limit\":2,\"offset\":2}");
        JsonNode last = page("{\"limit\":2,\"offset\":4}");
        JsonNode whole = page("{}");

        assertThat(first.get("total").asInt()).isEqualTo(5);
        assertThat(first.get("nextOffset").asInt()).isEqualTo(2);
        assertThat(second.get("nextOffset").asInt()).isEqualTo(4);
        assertThat(last.get("nextOffset").isNull()).as("the last page says so").isTrue();
        assertThat(whole.get("nextOffset").isNull()).as("at most 100 by default, here all").isTrue();
        assertThat(keys(first) + keys(second) + keys(last)).as("the pages, one after the other, are the whole list")
                .isEqualTo(keys(whole));
        assertThat(whole.get("sessions")).hasSize(5);
        assertThat(keys(whole).split(" ")).doesNotHaveDuplicates();
    }

    @Test
    void sessionsListRefusesPagingParamsOutOfRangeNamingTheParam() {
        String[][] cases = {
            {"{\"limit\":0}", "params.limit"}, {"{\"limit\":1001}", "params.limit"}, {"{\"limit\":\"5\"}", "params.limit"},
            {"{\"limit\":1.5}", "params.limit"}, {"{\"offset\":-1}", "params.offset"}, {"{\"offset\":true}", "params.offset"},
        };
        for (String[] refused : cases) {
            Answer answer = client.rpc("sessions.list", refused[0]);

            assertThat(answer.status()).as(refused[0]).isEqualTo(400);
            assertThat(answer.body().at("/error/code").asText()).isEqualTo("INVALID_PARAMS");
            assertThat(answer.body().at("/error/message").asText()).as(refused[0]).startsWith(refused[1] + ":");
        }
    }

    @Test
    void statusShowsTheJournalWritableUntilItsFileIsRemoved() throws Exception {
        assertThat(status().at("/journal/writable").asBoolean()).isTrue();
        assertThat(status().at("/journal/problem").isNull()).isTrue();

        Files.delete(state.resolve("journal.db"));

        await().atMost(Duration.ofSeconds(5)).until(() -> !status().at("/journal/writable").asBoolean());
        assertThat(status().at("/journal/problem").asText()).contains(state.resolve("journal.db").toString(), "was removed");
    }

    private static String keys(JsonNode page) {
        StringBuilder keys = new StringBuilder();
        page.get("sessions").forEach(session -> keys.append(session.get("sessionKey").asText()).append(' '));
        return keys.toString();
    }

    private JsonNode status() {
        return client.rpc("status").body().get("payload");
    }

    private JsonNode page(String params) {
        Answer answer = client.rpc("sessions.list", params);
        assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
        return answer.body().get("payload");
    }
}
