package org.unetmm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RttEstimatorTest {
    private static final long US = 1_000;
    private static final long MS = 1_000_000;

    @Test
    void firstSampleSetsSrttAndHalfOfItAsVariationAsRfc6298Says() {
        RttEstimator e = new RttEstimator(MS, 100 * US, 100 * MS);
        e.sample(10 * MS);
        assertThat(e.srtt()).isEqualTo(10 * MS);
        assertThat(e.rttvar()).isEqualTo(5 * MS);
        assertThat(e.rto()).isEqualTo(30 * MS); // srtt + 4 rttvar
    }

    @Test
    void steadySamplesConvergeAndMicrosecondLoopbackSettlesOnTheMinimum() {
        RttEstimator e = new RttEstimator(MS, 200 * US, 100 * MS);
        for (int i = 0; i < 100; i++) {
            e.sample(5 * US);
        }
        assertThat(e.srtt()).isBetween(4 * US, 6 * US);
        assertThat(e.rto()).isEqualTo(200 * US);
    }

    @Test
    void jitterWidensTheTimeout() {
        RttEstimator steady = new RttEstimator(MS, US, 100 * MS);
        RttEstimator jittery = new RttEstimator(MS, US, 100 * MS);
        for (int i = 0; i < 50; i++) {
            steady.sample(2 * MS);
            jittery.sample(i % 2 == 0 ? MS : 3 * MS);
        }
        assertThat(jittery.rto()).isGreaterThan(steady.rto());
    }

    @Test
    void backOffDoublesUpToTheMaximumAndTheNextSampleResetsIt() {
        RttEstimator e = new RttEstimator(MS, 100 * US, 10 * MS);
        e.backOff();
        assertThat(e.rto()).isEqualTo(2 * MS);
        for (int i = 0; i < 10; i++) {
            e.backOff();
        }
        assertThat(e.rto()).isEqualTo(10 * MS);
        e.sample(100 * US);
        assertThat(e.rto()).isLessThan(MS);
    }

    @Test
    void inconsistentBoundsAreRefused() {
        assertThatThrownBy(() -> new RttEstimator(MS, 2 * MS, 10 * MS)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RttEstimator(MS, 0, 10 * MS)).isInstanceOf(IllegalArgumentException.class);
    }
}
