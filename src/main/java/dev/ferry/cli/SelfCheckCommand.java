package dev.ferry.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.sun.net.httpserver.HttpServer;

import picocli.CommandLine.Command;

import dev.ferry.config.ConfigException;
import dev.ferry.config.ConfigLoader;
import dev.ferry.gateway.Gateway;

/**
 * {@code ferry selfcheck}: proves this installation end to end without touching the operator's
 * configuration or state. It starts a gateway on an ephemeral loopback port with a throwaway state
 * directory, posts one webhook message and waits for the echo reply at a reply URL it serves itself.
 * The launcher also runs it once after a build to record the class-data archive that speeds up start-up.
 */
@Command(name = "selfcheck", mixinStandardHelpOptions = true,
        description = "Start a throwaway gateway, send one message through it, and check the reply.")
final class SelfCheckCommand implements Callable<Integer> {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Override
    public Integer call() throws Exception {
        Path state = Files.createTempDirectory("ferry-selfcheck");
        CompletableFuture<String> received = new CompletableFuture<>();
        HttpServer sink = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        sink.createContext("/replies", exchange -> {
            received.complete(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        sink.start();
        String config = "{ gateway: { port: 0 }, state: { dir: " + quote(state.toString()) + " },"
                + " channels: { webhook: { replyUrl: \"http://127.0.0.1:" + sink.getAddress().getPort() + "/replies\" } } }";
        try (Gateway gateway = Gateway.start(ConfigLoader.parse(config, null))) {
            HttpRequest post = HttpRequest.newBuilder(gateway.url().resolve("/channels/webhook/inbound"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"messageId\":\"selfcheck-1\",\"conversation\":\"selfcheck\",\"sender\":\"ferry\",\"text\":\"ping\"}"))
                    .build();
            HttpResponse<String> accepted = HttpClient.newHttpClient().send(post, HttpResponse.BodyHandlers.ofString());
            if (accepted.statusCode() != 202) {
                System.err.println("selfcheck: webhook answered " + accepted.statusCode() + ": " + accepted.body());
                return 1;
            }
            String reply = received.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (!reply.contains("\"text\":\"echo: ping\"")) {
                System.err.println("selfcheck: unexpected reply " + reply);
                return 1;
            }
            System.out.println("selfcheck: ok (message accepted, echo reply delivered)");
            return 0;
        } catch (ConfigException | IOException | TimeoutException e) {
            System.err.println("selfcheck: failed: " + e);
            return 1;
        } finally {
            sink.stop(0);
            deleteQuietly(state);
        }
    }

    private static String quote(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static void deleteQuietly(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }
}
