package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.ReplySink;

/** Followup queues end to end: a busy echo agent, real HTTP in, a real reply sink out. */
class FollowupQueueIT {

    @TempDir
    Path state;

    private ReplySink sink;
    private Gateway gateway;
    private GatewayClient client;

    private void start(String extra) throws Exception {
        sink = new ReplySink();
        String config = "{ gateway: { port: 0 }, state: { dir: '" + state + "' },"
                + " channels: { webhook: { replyUrl: '" + sink.url() + "' } }, " + extra + " }";
        gateway = Gateway.start(ConfigLoader.parse(config, null));
        client = new GatewayClient(gateway.url(), null);
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (sink != null) {
            sink.close();
        }
    }

    @Test
    void oneMessageThenThreeQuickOnesInCollectGiveExactlyTwoReplies() throws Exception {
        start("agent: { echo: { delayMs: 500 } }");

        client.webhookMessage("c-0", "busy", "ann", "first question");
        client.webhookMessage("c-1", "busy", "ann", "one");
        client.webhookMessage("c-2", "busy", "ann", "two");
        client.webhookMessage("c-3", "busy", "ann", "three");

        await().atMost(Duration.ofSeconds(15)).until(() -> sink.accepted().size() == 2);
        assertThat(sink.accepted().get(0).body().get("text").asText()).isEqualTo("echo: first question");
        assertThat(sink.accepted().get(1).body().get("text").asText()).isEqualTo("echo: "
                + "[Queued messages while agent was busy]\n\n"
                + "---\nQueued #1\none\n\n"
                + "---\nQueued #2\ntwo\n\n"
                + "---\nQueued #3\nthree");
        assertThat(sink.accepted().get(1).body().get("inReplyTo")).extracting(node -> node.asText())
                .containsExactly("c-1", "c-2", "c-3");
        // The queue is idle again and nothing else is on its way.
        await().atMost(Duration.ofSeconds(5)).until(() -> gateway.status().at("/queues").isEmpty());
        assertThat(sink.accepted()).hasSize(2);
    }

    @Test
    void capOverflowIsDroppedVisiblyNeverSilently() throws Exception {
        start("agent: { echo: { delayMs: 400 } }, messages: { queue: { mode: 'followup', cap: 1, drop: 'new', debounceMs: 0 } }");

        client.webhookMessage("d-0", "tight", "bob", "runs now");
        client.webhookMessage("d-1", "tight", "bob", "queued");
        client.webhookMessage("d-2", "tight", "bob", "refused");

        await().atMost(Duration.ofSeconds(15)).until(() -> sink.accepted().size() == 3);
        assertThat(sink.accepted()).extracting(reply -> reply.body().get("text").asText())
                .contains("echo: runs now", "echo: queued")
                .anySatisfy(text -> assertThat(text).startsWith("Ferry dropped 1 message(s)"));
        var journal = client.rpc("status").body().at("/payload/journal");
        assertThat(journal.get("received").asInt()).isEqualTo(3);
        assertThat(journal.get("dropped").asInt()).isEqualTo(1);
        assertThat(journal.get("done").asInt()).isEqualTo(2);
    }

    @Test
    void statusCommandIsAnsweredWithoutTheAgent() throws Exception {
        start("agent: { echo: { delayMs: 2000 } }");

        client.webhookMessage("s-0", "cmd", "cat", "slow question");
        client.webhookMessage("s-1", "cmd", "cat", "/status");

        await().atMost(Duration.ofSeconds(5)).until(() -> sink.accepted().size() == 1);
        String answer = sink.accepted().get(0).body().get("text").asText();
        assertThat(answer).contains("Session: agent:main:webhook:default:cmd").contains("collect")
                .contains("Turn running: yes");
        assertThat(sink.accepted().get(0).body().get("inReplyTo").get(0).asText()).isEqualTo("s-1");
    }
}
