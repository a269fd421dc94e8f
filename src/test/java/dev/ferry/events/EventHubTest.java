package dev.ferry.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.ferry.events.GatewayEvent.TurnOutcome;

/** The hub's promises to publishers and subscribers: nothing a subscriber does reaches a publisher. */
class EventHubTest {

    private final EventHub hub = new EventHub();

    private static GatewayEvent.TextDelta delta(String text) {
        return new GatewayEvent.TextDelta("s", 1, "fr-test-1", "webhook", "c", text);
    }

    private static GatewayEvent.TurnEnded ended(long turn) {
        return new GatewayEvent.TurnEnded("s", turn, TurnOutcome.REPLIED, null);
    }

    @Test
    void aSubscriberReadsEventsInPublicationOrder() {
        EventSubscription events = hub.subscribe(16);

        hub.publish(delta("a"));
        hub.publish(delta("b"));
        hub.publish(ended(1));

        assertThat(events.drain()).containsExactly(delta("a"), delta("b"), ended(1));
    }

    @Test
    void aFullBufferDropsItsOldestDeltaAndMarksTheGapBeforeWhatFollows() {
        EventSubscription events = hub.subscribe(3);

        hub.publish(delta("a"));
        hub.publish(ended(1));
        hub.publish(delta("b"));
        hub.publish(ended(2));

        assertThat(events.drain()).containsExactly(new GatewayEvent.EventsLost(1), ended(1), delta("b"), ended(2));
        assertThat(events.lostDeltas()).isEqualTo(1);
        assertThat(events.closeReason()).isNull();
    }

    @Test
    void aBufferFullOfWhatMustNotBeLostClosesTheSubscriptionKeepingWhatItHolds() {
        AtomicInteger woken = new AtomicInteger();
        EventSubscription events = hub.subscribe(2, event -> true, woken::incrementAndGet);

        hub.publish(ended(1));
        hub.publish(ended(2));
        hub.publish(delta("dropped, not fatal"));
        hub.publish(ended(3));

        assertThat(events.closeReason()).startsWith("overflow");
        assertThat(events.drain()).containsExactly(new GatewayEvent.EventsLost(1), ended(1), ended(2));
        assertThat(hub.subscriberCount()).isZero();
        assertThat(woken.get()).as("once when it turned non-empty, once when it closed").isEqualTo(2);
    }

    @Test
    void aSubscriberWhoseCallbackThrowsIsClosedAndTheOthersStillReceive() {
        EventSubscription failing = hub.subscribe(16, event -> true, () -> {
            throw new IllegalStateException("a broken client");
        });
        EventSubscription healthy = hub.subscribe(16);

        hub.publish(ended(1));
        hub.publish(ended(2));

        assertThat(failing.closeReason()).startsWith("failed");
        assertThat(healthy.drain()).containsExactly(ended(1), ended(2));
        assertThat(hub.subscriberCount()).isEqualTo(1);
    }

    @Test
    void aFilterChoosesWhatASubscriberReceives() {
        EventSubscription onlyEnds = hub.subscribe(16, GatewayEvent.TurnEnded.class::isInstance, () -> {});

        hub.publish(delta("a"));
        hub.publish(ended(1));

        assertThat(onlyEnds.drain()).containsExactly(ended(1));
    }

    @Test
    void takeAnswersNullOnceClosedAndPollNullWhenEmpty() throws Exception {
        EventSubscription events = hub.subscribe(4);

        assertThat(events.poll()).isNull();
        events.close();
        hub.publish(ended(1));

        assertThat(events.take(Duration.ofSeconds(5))).isNull();
        assertThat(events.closeReason()).isEqualTo("closed by the subscriber");
        assertThat(hub.subscriberCount()).isZero();
    }
}
