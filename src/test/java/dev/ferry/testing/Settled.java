package dev.ferry.testing;

import static org.awaitility.Awaitility.await;

import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Proves an absence by state rather than by a quiet window: once the gateway holds nothing that could
 * still produce a reply (no debounce key buffered, no message pending in the journal, no turn running,
 * no followup queued, no reply waiting in the outbox), the replies received are all there will ever be.
 */
public final class Settled {

    private Settled() {}

    /** Waits until {@code status} shows nothing left anywhere in the pipeline. */
    public static void awaitSettled(GatewayClient client, Duration patience) {
        await().atMost(patience).until(() -> isSettled(client.rpc("status").body().get("payload")));
    }

    private static boolean isSettled(JsonNode status) {
        return status.get("bufferedDebounceKeys").asInt() == 0
                && status.get("runningTurns").asInt() == 0
                && status.get("queues").isEmpty()
                && status.at("/journal/pending").asInt() == 0
                && status.at("/outbox/pending").asInt() == 0;
    }
}
