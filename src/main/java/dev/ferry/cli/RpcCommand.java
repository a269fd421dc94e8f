package dev.ferry.cli;

import java.io.IOException;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import dev.ferry.config.GatewayConfig;
import dev.ferry.config.LoadedConfig;

/** Shared by the commands that talk to a running gateway: load the configuration, call, print. */
final class RpcCommand {

    private RpcCommand() {}

    /** Prints the payload (or the error) and returns the exit code. */
    static int run(ConfigOption config, String method, JsonNode params) throws InterruptedException {
        Optional<LoadedConfig> found = config.loadOrExplain();
        if (found.isEmpty()) {
            return 1;
        }
        LoadedConfig loaded = found.get();
        GatewayConfig gateway = loaded.config().gateway();
        RpcClient client = new RpcClient(gateway);
        try {
            RpcClient.Answer answer = client.call(method, params);
            if (answer.ok()) {
                System.out.println(RpcClient.pretty(answer.body().get("payload")));
                return 0;
            }
            String code = answer.body().path("error").path("code").asText();
            String message = answer.body().path("error").path("message").asText();
            if (answer.status() == 401) {
                System.err.println("ferry: " + GatewayFailure.refusedToken(client.base(), gateway.authToken().isPresent(),
                        code.isEmpty() ? "HTTP 401" : code, message, loaded.path()).getMessage());
                return 1;
            }
            System.err.println("ferry: " + method + " failed: " + code + ": " + message);
            return 1;
        } catch (IOException e) {
            System.err.println("ferry: " + GatewayFailure.unreachable(client.base(), e, RpcClient.TIMEOUT).getMessage());
            return 1;
        }
    }
}
