package dev.ferry.journal.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

class DedupeIndexTest {

    /** keyOf("webhook", "default", "c1", "m1") as first stored; see the test that pins it. */
    private static final long PINNED_KEY = -7474434232120121305L;

    @Test
    void equalIdentitiesGetEqualKeysAndPartBoundariesMatter() {
        assertThat(DedupeIndex.keyOf("webhook", "default", "c1", "m1"))
                .isEqualTo(DedupeIndex.keyOf("webhook", "default", "c1", "m1"));
        assertThat(DedupeIndex.keyOf("webhook", "default", "c1", "m1"))
                .isNotEqualTo(DedupeIndex.keyOf("webhook", "default", "c", "1m1"));
    }

    @Test
    void theKeyFunctionNeverChangesBecauseJournalsStoreItsValues() {
        assertThat(DedupeIndex.keyOf("webhook", "default", "c1", "m1")).isEqualTo(PINNED_KEY);
    }

    @Test
    void collidingKeysKeepEverySeqAndTheVisitorPicksTheRightOne() {
        DedupeIndex index = new DedupeIndex();
        index.add(42, 1);
        index.add(42, 2);
        index.add(42, 3);

        assertThat(index.find(42, seq -> seq == 2)).isEqualTo(2);
        assertThat(index.find(42, seq -> false)).isEqualTo(-1);
        assertThat(index.find(43, seq -> true)).isEqualTo(-1);

        index.remove(42, 1);
        assertThat(index.find(42, seq -> seq == 1)).isEqualTo(-1);
        assertThat(index.find(42, seq -> seq == 3)).as("still found after the slot before it was emptied").isEqualTo(3);
        assertThat(index.size()).isEqualTo(2);
    }

    @Test
    void randomAddsAndRemovesAgreeWithAPlainMapThroughManyResizes() {
        DedupeIndex index = new DedupeIndex();
        Map<Long, List<Long>> expected = new HashMap<>();
        Random random = new Random(7);
        // Few distinct keys across a small range of slots forces long probe runs, wrap-around and collisions.
        for (long seq = 1; seq <= 20_000; seq++) {
            long key = 1 + random.nextInt(5_000) * 1024L;
            index.add(key, seq);
            expected.computeIfAbsent(key, k -> new ArrayList<>()).add(seq);
            if (random.nextInt(3) == 0) {
                List<Long> seqs = expected.get(key);
                long gone = seqs.remove(random.nextInt(seqs.size()));
                index.remove(key, gone);
            }
        }

        int total = 0;
        for (Map.Entry<Long, List<Long>> entry : expected.entrySet()) {
            for (long seq : entry.getValue()) {
                assertThat(index.find(entry.getKey(), candidate -> candidate == seq)).isEqualTo(seq);
                total++;
            }
        }
        assertThat(index.size()).isEqualTo(total);
    }
}
