package dev.ferry.control.ws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.DefaultHandler;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.Secret;
import dev.ferry.control.Json;
import dev.ferry.control.RpcMethods;
import dev.ferry.events.EventHub;
import dev.ferry.testing.WsClient;

/**
 * Pings keep a live client connected, and a client that answers none is dropped: a peer that is gone
 * (or frozen) without closing its socket would otherwise hold a connection and a subscription forever.
 * On a real Jetty server on loopback, with pings every 100 ms.
 */
class DeadClientReapIT {

    private static final Duration PING_EVERY = Duration.ofMillis(100);

    private final EventHub hub = new EventHub();
    private final RpcMethods methods = new RpcMethods().addSync("health", params -> Json.object().put("ok", true));
    private final ControlSocket socket = new ControlSocket(methods, () -> Secret.NONE, () -> 1, "test", hub, PING_EVERY);
    private Server server;
    private URI base;

    @BeforeEach
    void serve() throws Exception {
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(socket.handler(server, new DefaultHandler()));
        server.start();
        base = URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    @AfterEach
    void stop() throws Exception {
        socket.close();
        server.stop();
    }

    @Test
    void aClientThatAnswersNoPingIsDroppedAndOneThatAnswersStays() throws Exception {
        try (WsClient live = WsClient.open(base);
             Socket silent = new Socket(InetAddress.getLoopbackAddress(), base.getPort())) {
            upgradeAndGoSilent(silent);
            await().atMost(Duration.ofSeconds(5)).until(() -> socket.connections() == 2);

            // Two unanswered pings, then the round after: a few hundred milliseconds.
            await().atMost(Duration.ofSeconds(5)).until(() -> socket.connections() == 1);
            assertThat(silent.getInputStream().readAllBytes()).as("the server ended the silent connection").isNotNull();

            // The live client answered every ping meanwhile, and many rounds later it is still served.
            long round = socket.pingRounds();
            await().atMost(Duration.ofSeconds(5)).until(() -> socket.pingRounds() >= round + 10);
            JsonNode health = live.call("h", "health", null);
            assertThat(health.path("ok").asBoolean()).as("%s", health).isTrue();
            assertThat(socket.connections()).isEqualTo(1);
            assertThat(hub.subscriberCount()).as("the dropped client's subscription went with it").isEqualTo(2);
        }
    }

    /** A WebSocket handshake by hand, after which this peer reads nothing and answers nothing. */
    private static void upgradeAndGoSilent(Socket socket) throws Exception {
        OutputStream out = socket.getOutputStream();
        out.write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int next = in.read();
            if (next < 0) {
                throw new AssertionError("closed during the handshake: " + head);
            }
            head.append((char) next);
        }
        assertThat(head.toString()).startsWith("HTTP/1.1 101");
    }
}
