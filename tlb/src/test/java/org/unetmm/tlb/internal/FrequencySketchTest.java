package org.unetmm.tlb.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The count-min sketch LFU keeps its frequencies in, against exact counts. */
@Timeout(60)
class FrequencySketchTest {
    @Test
    void estimateIsNeverBelowTheExactCountAndIsExactForFewKeys() {
        for (int keys : new int[] {20, 5_000}) {
            FrequencySketch sketch = new FrequencySketch(1_024, 255);
            Map<List<Long>, Integer> exact = new HashMap<>();
            SplittableRandom random = new SplittableRandom(91 + keys);
            for (int i = 0; i < 40_000; i++) {
                int context = random.nextInt(3);
                long page = random.nextInt(keys / 3 + 1) * 7L + (1L << 33);
                sketch.increment(context, page);
                exact.merge(List.of((long) context, page), 1, Integer::sum);
            }
            exact.forEach((key, count) -> {
                int estimate = sketch.estimate((int) (long) key.get(0), key.get(1));
                assertThat(estimate).as("seed %d, %d keys: %s counted %d", 91 + keys, keys, key, count)
                        .isGreaterThanOrEqualTo(Math.min(255, count));
                if (keys == 20) {
                    assertThat(estimate).as("seed %d, 20 keys in 1,024 counters a row: %s", 91 + keys, key)
                            .isEqualTo(Math.min(255, count));
                }
            });
        }
    }

    @Test
    void countersSaturateAndHalvingHalvesThem() {
        FrequencySketch sketch = new FrequencySketch(64, 15);
        for (int i = 0; i < 9; i++) {
            sketch.increment(1, 42);
        }
        assertThat(sketch.estimate(1, 42)).isEqualTo(9);
        sketch.halve();
        assertThat(sketch.estimate(1, 42)).isEqualTo(4);
        for (int i = 0; i < 100; i++) {
            sketch.increment(1, 42);
        }
        assertThat(sketch.estimate(1, 42)).as("saturated at 15").isEqualTo(15);
        for (int i = 0; i < 4; i++) {
            sketch.halve();
        }
        assertThat(sketch.estimate(1, 42)).as("15 halved four times").isZero();
    }

    @Test
    void raiseLiftsButNeverLowers() {
        FrequencySketch sketch = new FrequencySketch(64, 255);
        sketch.raise(0, 7, 12);
        assertThat(sketch.estimate(0, 7)).isEqualTo(12);
        sketch.raise(0, 7, 3);
        assertThat(sketch.estimate(0, 7)).isEqualTo(12);
        sketch.raise(0, 7, 1_000);
        assertThat(sketch.estimate(0, 7)).as("raised past saturation").isEqualTo(255);
        assertThat(sketch.estimate(1, 7)).as("another context's page 7").isZero();
    }

    @Test
    void saturationOutsideAByteIsRefused() {
        assertThatThrownBy(() -> new FrequencySketch(64, 256)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1..255");
    }
}
