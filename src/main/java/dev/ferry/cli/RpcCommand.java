package dev.ferry.cli;

import java.io.IOException;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.ConfigException;

/** Shared by the commands that talk to a running gateway: load the configuration, call, print. */
final class RpcCommand {

    private RpcCommand() {}

    /** Prints the payload (or the error) and returns the exit code. */
    static int run(ConfigOption config, String method, JsonNode params) throws InterruptedException {
        RpcClient client;
        try {
            client = new RpcClient(config.load().config().gateway());
        } catch (ConfigException e) {
            System.err.println("ferry: invalid configuration: " + String.join("; ", e.errors()));
            return 1;
        }
        try {
            RpcClient.Answer answer = client.call(method, params);
            if (answer.ok()) {
                System.out.println(RpcClient.pretty(answer.body().get("payload")));
                return 0;
            }
            System.err.println("ferry: " + method + " failed: " + answer.body().path("error").path("code").asText()
                    + ": " + answer.body().path("error").path("message").asText());
            return 1;
        } catch (IOException e) {
            System.err.println("ferry: no gateway answering at " + client.endpoint() + " (" + e.getClass().getSimpleName() + ")");
            return 1;
        }
    }
}
