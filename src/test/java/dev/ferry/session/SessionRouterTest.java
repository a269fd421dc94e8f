package dev.ferry.session;

import static dev.ferry.journal.TestMessages.inbound;
import static dev.ferry.journal.TestMessages.journaled;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import dev.ferry.agent.AgentBackend;
import dev.ferry.agent.AgentRequest;
import dev.ferry.agent.AgentRun;
import dev.ferry.config.FerryConfig;
import dev.ferry.config.SessionScope;
import dev.ferry.delivery.Outbox;
import dev.ferry.events.GatewayEvents;
import dev.ferry.delivery.RetryPolicy;
import dev.ferry.journal.InMemoryJournal;
import dev.ferry.journal.InboundMessage;
import dev.ferry.queue.TurnScheduler;
import dev.ferry.queue.TurnSettings;
import dev.ferry.time.ManualScheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

class SessionRouterTest {

    private final InMemoryJournal journal = new InMemoryJournal();
    private final ManualScheduler scheduler = new ManualScheduler();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    /** Every request the agent saw; each run stays open, so a session's later batches wait in its queue. */
    private final List<AgentRequest> requests = Collections.synchronizedList(new ArrayList<>());
    private final AgentBackend backend = new AgentBackend() {
        @Override
        public String name() {
            return "recording";
        }

        @Override
        public AgentRun start(AgentRequest request) {
            requests.add(request);
            var reply = new CompletableFuture<String>();
            return new AgentRun() {
                @Override
                public CompletableFuture<String> reply() {
                    return reply;
                }

                @Override
                public void abort() {
                    reply.cancel(false);
                }
            };
        }
    };
    private final Outbox outbox = new Outbox(journal, scheduler, RetryPolicy.DEFAULT, metrics);
    private final TurnScheduler turns = new TurnScheduler(journal, backend, outbox, new TurnSettings(8, "", 0),
            FerryConfig.defaults().messages().queue(), scheduler, Runnable::run, RetryPolicy.DEFAULT, metrics,
            GatewayEvents.NONE);
    private final ChatCommandHandler commands = new ChatCommandHandler(journal, turns, outbox);

    @Test
    void routesABatchToItsConversationsSession() {
        SessionRouter router = new SessionRouter(SessionScope.CONVERSATION, turns, commands);

        router.route(List.of(message("c1", "alice", "m1"), message("c1", "alice", "m2")));

        assertThat(requests).extracting(AgentRequest::sessionKey).containsExactly("agent:main:webhook:default:c1");
        assertThat(requests.get(0).prompt()).isEqualTo("text m1\ntext m2");
    }

    @Test
    void batchesOfOneSessionShareItsQueueAndOthersRunBesideIt() {
        SessionRouter router = new SessionRouter(SessionScope.CONVERSATION, turns, commands);

        router.route(List.of(message("c1", "alice", "m1")));
        router.route(List.of(message("c1", "bob", "m2")));
        router.route(List.of(message("c2", "alice", "m3")));

        assertThat(requests).extracting(AgentRequest::sessionKey)
                .containsExactly("agent:main:webhook:default:c1", "agent:main:webhook:default:c2");
        assertThat(turns.snapshot()).extracting(status -> status.sessionKey() + "=" + status.queued())
                .containsExactly("agent:main:webhook:default:c1=1", "agent:main:webhook:default:c2=0");
    }

    @Test
    void senderScopeGivesEachSenderOfAGroupASession() {
        SessionRouter router = new SessionRouter(SessionScope.SENDER, turns, commands);

        router.route(List.of(message("group", "alice", "m1")));
        router.route(List.of(message("group", "bob", "m2")));

        assertThat(requests).extracting(AgentRequest::sessionKey)
                .containsExactly("agent:main:webhook:default:group:alice", "agent:main:webhook:default:group:bob");
    }

    @Test
    void theLastMessageOfABatchDecidesTheSession() {
        SessionRouter router = new SessionRouter(SessionScope.SENDER, turns, commands);

        router.route(List.of(message("group", "alice", "m1"), message("group", "bob", "m2")));

        assertThat(requests).extracting(AgentRequest::sessionKey)
                .containsExactly("agent:main:webhook:default:group:bob");
    }

    @Test
    void aNewScopeAppliesToLaterBatches() {
        SessionRouter router = new SessionRouter(SessionScope.CONVERSATION, turns, commands);
        router.route(List.of(message("c1", "alice", "m1")));

        router.useScope(SessionScope.MAIN);
        router.route(List.of(message("c2", "alice", "m2")));

        assertThat(requests).extracting(AgentRequest::sessionKey)
                .containsExactly("agent:main:webhook:default:c1", "agent:main:main");
    }

    @Test
    void aChatCommandIsAnsweredWithoutAModelCall() {
        SessionRouter router = new SessionRouter(SessionScope.CONVERSATION, turns, commands);

        router.route(List.of(journaled(journal, inbound("c1", "alice", "m1", "/status"))));

        assertThat(requests).isEmpty();
        assertThat(journal.pendingMessages()).isEmpty();
        assertThat(journal.undeliveredReplies()).isEmpty();
        assertThat(journal.stats().done()).isEqualTo(1);
    }

    @Test
    void unknownSlashTextGoesToTheAgent() {
        SessionRouter router = new SessionRouter(SessionScope.CONVERSATION, turns, commands);

        router.route(List.of(journaled(journal, inbound("c1", "alice", "m1", "/shrug"))));

        assertThat(requests).extracting(AgentRequest::prompt).containsExactly("/shrug");
    }

    @Test
    void aCommandsRemainingTextRunsInTheCommandsSession() {
        SessionRouter router = new SessionRouter(SessionScope.SENDER, turns, commands);

        router.route(List.of(journaled(journal, inbound("group", "bob", "m1", "/queue followup tell me a joke"))));

        assertThat(requests).extracting(AgentRequest::sessionKey, AgentRequest::prompt).containsExactly(
                org.assertj.core.groups.Tuple.tuple("agent:main:webhook:default:group:bob", "tell me a joke"));
        assertThat(journal.queueDirectives().get("agent:main:webhook:default:group:bob")).isNotNull();
        assertThat(journal.queueDirectives().get("agent:main:webhook:default:group")).isNull();
    }

    @Test
    void emptyBatchIsIgnored() {
        SessionRouter router = new SessionRouter(SessionScope.CONVERSATION, turns, commands);

        router.route(List.of());

        assertThat(requests).isEmpty();
        assertThat(turns.snapshot()).isEmpty();
    }

    private InboundMessage message(String conversation, String sender, String messageId) {
        return journaled(journal, inbound(conversation, sender, messageId, "text " + messageId));
    }
}
