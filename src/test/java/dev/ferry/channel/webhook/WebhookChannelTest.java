package dev.ferry.channel.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.ferry.channel.ChannelChange;
import dev.ferry.channel.ChannelContext;
import dev.ferry.channel.ChannelEndpoint;
import dev.ferry.config.ConfigLoader;
import dev.ferry.config.FerryConfig;
import dev.ferry.events.GatewayEvents;
import dev.ferry.intake.Intake;
import dev.ferry.intake.IntakeResponse;
import dev.ferry.journal.InMemoryJournal;
import dev.ferry.time.ManualScheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

class WebhookChannelTest {

    private static final String MESSAGE = "{\"messageId\":\"m1\",\"conversation\":\"c\",\"sender\":\"ann\",\"text\":\"hi\"}";

    private final InMemoryJournal journal = new InMemoryJournal();
    private final AtomicInteger clientsBuilt = new AtomicInteger();
    private final WebhookChannel channel = new WebhookChannel();

    WebhookChannelTest() {
        channel.start(new ChannelContext(new Intake(journal, message -> { }, new SimpleMeterRegistry()),
                new ManualScheduler(), () -> 1_767_225_600_000L, () -> {
                    clientsBuilt.incrementAndGet();
                    return HttpClient.newHttpClient();
                }, GatewayEvents.NONE, new SimpleMeterRegistry(), name -> null));
    }

    @Test
    void servesItsPathWhetherOrNotItIsEnabled() {
        assertThat(channel.endpoint()).get().extracting(ChannelEndpoint::path).isEqualTo("/channels/webhook/inbound");
        assertThat(channel.enabledIn(config(""))).isTrue();
        assertThat(channel.enabledIn(config("channels: { webhook: { enabled: false } }"))).isFalse();
    }

    @Test
    void aChangeNeitherToItsSettingsNorToTheGatewayTokenIsNoChange() {
        channel.prepare(config("channels: { webhook: { token: 'a-token' } }")).commit();

        assertThat(channel.prepare(config("channels: { webhook: { token: 'a-token' } }, agent: { historyTurns: 3 }")))
                .isSameAs(ChannelChange.UNCHANGED);
        assertThat(channel.prepare(config("channels: { webhook: { token: 'a-token' } },"
                + " gateway: { auth: { token: 'gw-token' } }")).kind()).isEqualTo(ChannelChange.Kind.IN_PLACE);
    }

    @Test
    void aPreparedTokenGuardsTheEndpointOnlyOnceCommitted() {
        channel.prepare(config("channels: { webhook: { token: 'old-token' } }")).commit();

        ChannelChange change = channel.prepare(config("channels: { webhook: { token: 'new-token' } }"));
        assertThat(post("Bearer old-token").status()).isEqualTo(202);

        change.commit();
        assertThat(post("Bearer old-token").status()).isEqualTo(401);
        assertThat(post("Bearer new-token").status()).as("accepted: m1 again, so a duplicate").isEqualTo(200);
    }

    @Test
    void withoutATokenOfItsOwnTheGatewayTokenGuardsIt() {
        channel.prepare(config("gateway: { auth: { token: 'gw-token' } }")).commit();

        assertThat(post(null).status()).isEqualTo(401);
        IntakeResponse accepted = post("Bearer gw-token");
        assertThat(accepted.status()).isEqualTo(202);
        assertThat(journal.pendingMessages().get(0).receivedAtEpochMs()).as("stamped by the context's wall clock")
                .isEqualTo(1_767_225_600_000L);
    }

    @Test
    void repliesHaveATransportOnlyWithAReplyUrlAndTheHttpClientIsBuiltOnlyThen() {
        channel.prepare(config("")).commit();
        assertThat(channel.replyTransport()).isEmpty();
        assertThat(clientsBuilt).hasValue(0);

        channel.prepare(config("channels: { webhook: { replyUrl: 'http://127.0.0.1:9/replies', maxConcurrentSends: 3 } }"))
                .commit();
        assertThat(channel.replyTransport()).containsInstanceOf(WebhookReplyTransport.class);
        assertThat(channel.maxConcurrentSends()).isEqualTo(3);
        assertThat(clientsBuilt).hasValue(1);
    }

    @Test
    void aDisabledChannelHasNoTransportAndItsEndpointAnswersChannelDisabled() {
        channel.prepare(config("channels: { webhook: { enabled: false, replyUrl: 'http://127.0.0.1:9/replies' } }"))
                .commit();

        assertThat(channel.replyTransport()).isEmpty();
        IntakeResponse refused = post(null);
        assertThat(refused.status()).isEqualTo(404);
        assertThat(refused.body()).hasToString(
                "{\"ok\":false,\"error\":{\"code\":\"CHANNEL_DISABLED\",\"message\":\"the webhook channel is not enabled\"}}");
        assertThat(journal.pendingMessages()).isEmpty();
    }

    private IntakeResponse post(String authorization) {
        Map<String, String> headers = authorization == null ? Map.of() : Map.of("Authorization", authorization);
        return channel.endpoint().orElseThrow().handle(headers::get, MESSAGE.getBytes(StandardCharsets.UTF_8)).join();
    }

    private static FerryConfig config(String body) {
        try {
            return ConfigLoader.parse("{ " + body + " }", null).config();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
