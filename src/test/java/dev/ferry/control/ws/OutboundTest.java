package dev.ferry.control.ws;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.eclipse.jetty.websocket.api.Callback;
import org.junit.jupiter.api.Test;

/** The send buffer over a wire the test completes by hand, as a client that reads slowly or not at all. */
class OutboundTest {

    /** Records what was written and holds each write's callback until the test completes it. */
    private static final class HeldWire implements Outbound.Wire {
        final List<String> written = new ArrayList<>();
        final List<Callback> unfinished = new ArrayList<>();
        String closedWith;
        boolean disconnected;

        @Override
        public void disconnect() {
            disconnected = true;
        }

        @Override
        public void sendText(String text, Callback callback) {
            written.add(text);
            unfinished.add(callback);
        }

        @Override
        public void sendPing(Callback callback) {
            callback.succeed();
        }

        @Override
        public void close(int code, String reason, Callback callback) {
            closedWith = code + " " + reason;
            callback.succeed();
        }

        void finishOne() {
            unfinished.remove(0).succeed();
        }
    }

    private final HeldWire wire = new HeldWire();
    private final AtomicInteger closes = new AtomicInteger();
    private final List<Runnable> later = new ArrayList<>();
    private final Outbound outbound = new Outbound(wire, Runnable::run, later::add, 3, 1000, closes::incrementAndGet);

    @Test
    void framesGoOutOneAtATimeInOrder() {
        outbound.send("a");
        outbound.send("b");
        assertThat(wire.written).containsExactly("a");
        wire.finishOne();
        assertThat(wire.written).containsExactly("a", "b");
        assertThat(outbound.queued()).isZero();
    }

    @Test
    void aClientFallingBehindLosesThePiecesItCanDoWithoutBeforeAnythingElse() {
        Outbound roomy = new Outbound(wire, Runnable::run, later::add, 6, 1000, closes::incrementAndGet);
        roomy.send("writing");
        assertThat(roomy.offer("piece-1")).isTrue();
        assertThat(roomy.offer("piece-2")).isTrue();
        assertThat(roomy.offer("piece-3")).isTrue();
        assertThat(roomy.offer("piece-4")).as("half full: a piece is let go").isFalse();
        roomy.send("final");
        roomy.send("queue change");
        assertThat(roomy.queued()).isEqualTo(5);
        for (int i = 0; i < 6; i++) {
            wire.finishOne();
        }
        assertThat(wire.written).containsExactly("writing", "piece-1", "piece-2", "piece-3", "final", "queue change");
        assertThat(closes).hasValue(0);
    }

    @Test
    void aCloseFollowsTheFramesQueuedBeforeIt() {
        outbound.send("refusal");
        outbound.send("more");
        outbound.closeAfterQueued(1008, "unauthorized");
        outbound.send("dropped");
        assertThat(wire.closedWith).isNull();
        wire.finishOne();
        wire.finishOne();
        assertThat(wire.written).containsExactly("refusal", "more");
        assertThat(wire.closedWith).isEqualTo("1008 unauthorized");
        assertThat(closes).hasValue(1);
    }

    @Test
    void aClientThatFallsTooFarBehindIsClosedWithAReasonAndHoldsNothingMore() {
        for (int i = 0; i < 10; i++) {
            outbound.send("f" + i);
        }
        // The close goes at once, not behind the write the client is not taking.
        assertThat(outbound.queued()).isZero();
        assertThat(wire.closedWith).startsWith("1008 send buffer overflow");
        assertThat(closes).hasValue(1);
        wire.finishOne();
        assertThat(wire.written).containsExactly("f0");
        // A client that takes not even the close is dropped after the grace.
        assertThat(wire.disconnected).isFalse();
        later.forEach(Runnable::run);
        assertThat(wire.disconnected).isTrue();
    }

    @Test
    void aFailedWriteEndsTheBufferOnce() {
        outbound.send("a");
        outbound.send("b");
        wire.unfinished.remove(0).fail(new IllegalStateException("gone"));
        outbound.send("c");
        assertThat(wire.written).containsExactly("a");
        assertThat(closes).hasValue(1);
    }
}
