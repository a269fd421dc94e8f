package dev.ferry.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class ForwardingJournalTest {

    @Test
    void forwardsEveryJournalMethodItself() {
        List<String> notForwarded = Arrays.stream(Journal.class.getMethods())
                .filter(method -> !Modifier.isStatic(method.getModifiers()))
                .filter(method -> !declaredBy(ForwardingJournal.class, method))
                .map(Method::getName)
                .toList();

        assertThat(notForwarded).as("a Journal method ForwardingJournal does not delegate").isEmpty();
    }

    @Test
    void handsCallsToTheWrappedJournal() {
        InMemoryJournal inner = new InMemoryJournal();
        Journal forwarding = new ForwardingJournal(inner);

        InboundMessage message = TestMessages.journaled(forwarding, TestMessages.inbound("c1", "alice", "m1", "hi"));

        assertThat(inner.pendingMessages()).containsExactly(message);
        assertThat(forwarding.stats()).isEqualTo(inner.stats());
    }

    private static boolean declaredBy(Class<?> type, Method method) {
        try {
            return type.getDeclaredMethod(method.getName(), method.getParameterTypes()) != null;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }
}
