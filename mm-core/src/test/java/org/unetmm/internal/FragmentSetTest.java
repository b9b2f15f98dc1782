package org.unetmm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FragmentSetTest {
    @Test
    void behavesAsABitSetAcrossResetsAndGrowth() {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        Random random = new Random(seed);
        FragmentSet set = new FragmentSet();
        for (int round = 0; round < 200; round++) {
            int size = 1 + random.nextInt(random.nextBoolean() ? 70 : 700);
            set.reset(size);
            BitSet model = new BitSet();
            for (int i = 0; i < size; i++) {
                assertThat(set.contains(i)).as("fresh after reset, seed %d", seed).isFalse();
            }
            for (int op = 0; op < size * 2; op++) {
                int f = random.nextInt(size + 2) - 1;
                boolean added = set.add(f);
                boolean inRange = f >= 0 && f < size;
                assertThat(added).as("seed %d", seed).isEqualTo(inRange && !model.get(f));
                if (inRange) {
                    model.set(f);
                }
                assertThat(set.count()).isEqualTo(model.cardinality());
                int missing = model.nextClearBit(0);
                assertThat(set.firstMissing()).as("seed %d", seed).isEqualTo(Math.min(missing, size));
                int from = random.nextInt(size);
                long expected = 0;
                for (int i = 0; i < 64 && from + i < size; i++) {
                    if (model.get(from + i)) {
                        expected |= 1L << i;
                    }
                }
                assertThat(set.window(from)).as("window from %d, seed %d", from, seed).isEqualTo(expected);
            }
            assertThat(set.isComplete()).isEqualTo(model.cardinality() == size);
        }
    }
}
