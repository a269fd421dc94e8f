package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.ferry.config.ConfigLoader;
import dev.ferry.testing.GatewayClient;
import dev.ferry.testing.ReplySink;

/** A gateway with {@code agent.backend: "command"}: a local program answers, and a failing one is an error reply. */
class CommandBackendGatewayIT {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private ReplySink sink;
    private Gateway gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (sink != null) {
            sink.close();
        }
    }

    private GatewayClient start(String script) throws Exception {
        sink = new ReplySink();
        gateway = Gateway.start(ConfigLoader.parse("{ gateway: { port: 0 }, state: { dir: '" + dir.resolve("state")
                + "' }, channels: { webhook: { replyUrl: '" + sink.url() + "' } }, agent: { backend: 'command',"
                + " command: { argv: ['/bin/sh', '-c', \"" + script + "\"], timeoutMs: 5000 } } }", null));
        return new GatewayClient(gateway.url(), null);
    }

    private List<String> replies() {
        return sink.accepted().stream().map(reply -> reply.body().path("text").asText()).toList();
    }

    @Test
    void theProgramsStdoutIsTheReplyAndItKnowsItsConversation() throws Exception {
        GatewayClient client = start("printf 'you said: '; cat; printf ' (%s)' \\\"$FERRY_CONVERSATION\\\"");
        assertThat(client.webhookMessage("m-1", "room-7", "ann", "hello").status()).isEqualTo(202);
        await().atMost(PATIENCE).until(() -> replies().size() == 1);
        assertThat(replies()).containsExactly("you said: hello (room-7)");
    }

    @Test
    void aProgramThatExitsNonZeroIsAnsweredWithAnErrorReplyAndTheMessageIsAccountedFor() throws Exception {
        GatewayClient client = start("echo oops >&2; exit 4");
        assertThat(client.webhookMessage("m-1", "c", "ann", "hello").status()).isEqualTo(202);
        await().atMost(PATIENCE).until(() -> replies().size() == 1);
        assertThat(replies().get(0)).startsWith("Sorry, I could not answer that:").contains("status 4")
                .doesNotContain("oops");
        var status = client.rpc("status").body().path("payload");
        assertThat(status.path("agentError").path("kind").asText()).isEqualTo("exit");
        assertThat(status.path("journal").path("pending").asLong()).isZero();
        assertThat(status.path("journal").path("done").asLong()).isEqualTo(1);
    }
}
