package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.testing.FakeTelegramServer;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.GatewayProcess;
import dev.ferry.testing.PostgresCluster;

/**
 * Two gateways with one Telegram bot on one PostgreSQL journal, against the fake Bot API (which answers a
 * second concurrent getUpdates with 409, as Telegram does): only one polls while both run; when it is
 * killed with SIGKILL, the other takes the poller's lease over once it runs out and polls on from the
 * stored offset, with no update lost or answered twice.
 */
class TelegramPollerFailoverIT {
    private static final String TOKEN = "434343:FERRY-TEST-TOKEN-never-logged";
    private static final Pattern TOKEN_IN_TEXT = Pattern.compile("tok-\\d+-\\d+");
    private static final long FIRST_UPDATE_ID = 9000;
    private static final int CHATS = 4;
    private static final int PER_CHAT = 40;
    private static final long LEASE_TTL_MS = 2_000;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private PostgresCluster cluster;
    private final GatewayProcess[] gateways = new GatewayProcess[2];
    private final URI[] urls = new URI[2];

    @BeforeEach
    void startTheDatabase() throws Exception {
        PostgresCluster.requireInstalled();
        cluster = PostgresCluster.start();
    }

    @AfterEach
    void stopEverything() {
        for (GatewayProcess gateway : gateways) {
            if (gateway != null) {
                gateway.close();
            }
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void onlyOneGatewayPollsAndThePeerTakesOverWithinALeaseOfTheKillWithNoUpdateLostOrAnsweredTwice() throws Exception {
        try (FakeTelegramServer telegram = FakeTelegramServer.start(TOKEN, "ferrybot", FIRST_UPDATE_ID)) {
            for (int i = 0; i < 2; i++) {
                Path config = dir.resolve("ferry-" + i + ".json5");
                Files.writeString(config, """
                        {
                          gateway: { port: %d },
                          state: { dir: "%s" },
                          journal: { engine: "postgres", postgres: { url: "%s", user: "%s", leaseTtlMs: %d } },
                          agent: { echo: { delayMs: 10 } },
                          messages: { queue: { mode: "followup", debounceMs: 0, cap: 1000 } },
                          channels: { telegram: { enabled: true, botToken: "%s", apiBaseUrl: "%s", pollTimeoutS: 1 } },
                        }
                        """.formatted(GatewayProcess.freePort(), dir.resolve("state-" + i), cluster.jdbcUrl(),
                        PostgresCluster.USER, LEASE_TTL_MS, TOKEN, telegram.apiBaseUrl()));
                gateways[i] = GatewayProcess.start("gateway", "--config", config.toString());
                urls[i] = gateways[i].awaitReady(TIMEOUT);
            }
            Thread feeder = telegram.feedTokens(CHATS, PER_CHAT, Duration.ofMillis(50));

            await().atMost(TIMEOUT).until(() -> telegram.confirmedOffset() >= FIRST_UPDATE_ID + 40);
            int poller = pollerState(0).equals("polling") ? 0 : 1;
            int standby = 1 - poller;
            assertThat(pollerState(poller)).isEqualTo("polling");
            assertThat(pollerState(standby)).as("the other gateway stands by").isEqualTo("standby");
            assertThat(conflicts(telegram)).as("no second getUpdates while both run").isZero();
            assertThat(status(poller).get("instance").get("telegramPoller").asBoolean()).isTrue();

            gateways[poller].process().destroyForcibly();
            long killedAt = System.nanoTime();
            assertThat(gateways[poller].process().waitFor(20, TimeUnit.SECONDS)).isTrue();
            await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(20)).until(() -> pollerState(standby).equals("polling"));
            long takeoverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
            feeder.join(TIMEOUT.toMillis());

            Set<String> all = new HashSet<>();
            for (int chat = 1; chat <= CHATS; chat++) {
                for (int i = 0; i < PER_CHAT; i++) {
                    all.add("tok-" + chat + "-" + i);
                }
            }
            await().atMost(TIMEOUT).until(() -> telegram.sentByToken(TOKEN_IN_TEXT).keySet().containsAll(all));
            Map<String, Set<String>> byToken = telegram.sentByToken(TOKEN_IN_TEXT);
            long answeredTwice = byToken.values().stream().filter(replies -> replies.size() > 1).count();
            System.out.printf("telegram poller failover: lease %d ms, standby polling %d ms after the kill, %d updates,"
                    + " answered twice %d%n", LEASE_TTL_MS, takeoverMs, all.size(), answeredTwice);
            assertThat(takeoverMs).as("taken over within the lease and one standby check of the kill")
                    .isLessThan(LEASE_TTL_MS + 2_000);
            assertThat(answeredTwice).as("updates answered by two different replies").isZero();
            await().atMost(TIMEOUT).until(() -> telegram.storedUpdates() == 0);
            assertThat(gateways[standby].output()).doesNotContain(TOKEN).doesNotContain("FERRY-TEST-TOKEN");
        }
    }

    private String pollerState(int index) {
        return status(index).get("channels").get("telegram").get("state").asText();
    }

    private com.fasterxml.jackson.databind.JsonNode status(int index) {
        return new GatewayClient(urls[index], null).rpc("status").body().get("payload");
    }

    private static long conflicts(FakeTelegramServer telegram) {
        return telegram.calls("getUpdates").stream().filter(call -> call.status() == 409).count();
    }
}
