package dev.ferry.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import dev.ferry.config.ConfigException;
import dev.ferry.config.GatewayConfig;

/** {@code ferry status}: asks the running gateway named by the configuration for its status. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Show the running gateway's status.")
final class StatusCommand implements Callable<Integer> {

    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws InterruptedException {
        GatewayConfig gateway;
        try {
            gateway = config.load().config().gateway();
        } catch (ConfigException e) {
            System.err.println("ferry: invalid configuration: " + String.join("; ", e.errors()));
            return 1;
        }
        String host = gateway.bind().equals("0.0.0.0") ? "127.0.0.1" : gateway.bind();
        URI rpc = URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + gateway.port() + "/rpc");
        HttpRequest.Builder request = HttpRequest.newBuilder(rpc).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"method\":\"status\"}"));
        if (gateway.authToken().isPresent()) {
            request.header("Authorization", "Bearer " + gateway.authToken().reveal());
        }
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(request.build(),
                    HttpResponse.BodyHandlers.ofString());
            System.out.println(response.body());
            return response.statusCode() == 200 ? 0 : 1;
        } catch (IOException e) {
            System.err.println("ferry: no gateway answering at " + rpc + " (" + e.getClass().getSimpleName() + ")");
            return 1;
        }
    }
}
