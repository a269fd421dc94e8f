package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import com.sun.net.httpserver.HttpServer;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.ferry.config.ConfigLoader;

/**
 * A stop that closes the journal while a delivery is still being answered, and so while its record is
 * still to be written, is work the gateway ordered itself: it logs no error. {@code ferry selfcheck}
 * stops that way, and before the fix it logged an error now and then.
 */
class StopDuringDeliveryIT {

    @TempDir
    Path dir;

    /** How many stops race a delivery: one in a few lost that race before the fix, so this many find it. */
    private static final int ROUNDS = 30;

    @Test
    void aStopRightAfterTheReceiverGotTheReplyLogsNoError() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        root.addAppender(appender);
        HttpClient client = HttpClient.newHttpClient();
        try {
            for (int round = 0; round < ROUNDS; round++) {
                runOnce(client, dir.resolve("state-" + round));
            }
        } finally {
            root.detachAppender(appender);
            appender.stop();
        }
        List<String> errors;
        synchronized (appender.list) {
            errors = appender.list.stream().filter(event -> event.getLevel().isGreaterOrEqual(Level.ERROR))
                    .map(event -> event.getLoggerName() + ": " + event.getFormattedMessage()).toList();
        }
        assertThat(errors).isEmpty();
    }

    /** What {@code ferry selfcheck} does: the receiver answers as it is told of the reply, and the gateway stops at once. */
    private static void runOnce(HttpClient client, Path state) throws Exception {
        CountDownLatch received = new CountDownLatch(1);
        HttpServer sink = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        sink.createContext("/replies", exchange -> {
            exchange.getRequestBody().readAllBytes();
            received.countDown();
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        sink.start();
        try {
            String config = "{ gateway: { port: 0 }, state: { dir: '" + state + "' }, channels: { webhook: {"
                    + " replyUrl: 'http://127.0.0.1:" + sink.getAddress().getPort() + "/replies' } } }";
            try (Gateway gateway = Gateway.start(ConfigLoader.parse(config, null))) {
                HttpRequest post = HttpRequest.newBuilder(gateway.url().resolve(URI.create("/channels/webhook/inbound")))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"messageId\":\"m-1\",\"conversation\":\"c\",\"sender\":\"s\",\"text\":\"ping\"}"))
                        .build();
                assertThat(client.send(post, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(202);
                assertThat(received.await(10, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            sink.stop(0);
        }
    }
}
