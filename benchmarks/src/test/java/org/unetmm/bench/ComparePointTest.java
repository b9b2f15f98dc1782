package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A point's summary of its repeats and the flags it raises, on made-up repeats (no timing). */
class ComparePointTest {
    private static ComparePoint.Repeat repeat(String path, int index, long messages, double ratio) {
        return new ComparePoint.Repeat(path, 1000, index, Instant.EPOCH.plusSeconds(index), messages, 1.0, Double.NaN,
                Double.NaN, ratio);
    }

    private static ComparePoint point(String path, List<ComparePoint.Repeat> repeats) {
        return new ComparePoint("loopback:", path, 1000, repeats, 1, 2, Double.NaN, Double.NaN,
                ComparePoint.Spread.of(repeats.stream().mapToDouble(ComparePoint.Repeat::ratio).toArray()),
                ComparePoint.ONE_WAY, List.of());
    }

    @Test
    void spreadIsTheMedianWithinMinAndMaxLeavingNaNOut() {
        assertThat(ComparePoint.Spread.of(3, 1, 2)).isEqualTo(new ComparePoint.Spread(2, 1, 3));
        assertThat(ComparePoint.Spread.of(4, 1, 2, 3)).isEqualTo(new ComparePoint.Spread(2.5, 1, 4));
        assertThat(ComparePoint.Spread.of(Double.NaN, 5)).isEqualTo(new ComparePoint.Spread(5, 5, 5));
        assertThat(ComparePoint.Spread.of(Double.NaN).median()).isNaN();
    }

    @Test
    void aPathFasterThanItsLimitIsFlaggedAboveLimitButTheLimitItselfIsNot() {
        List<ComparePoint.Repeat> fast = List.of(repeat("AERON_UDP", 0, 1000, 1.3), repeat("AERON_UDP", 1, 1000, 1.4),
                repeat("AERON_UDP", 2, 1000, 0.9));
        assertThat(point("AERON_UDP", fast).flagged(List.of(), 0.25).flags()).containsExactly(ComparePoint.ABOVE_LIMIT);
        List<ComparePoint.Repeat> limit = List.of(repeat("MEMCPY", 0, 1000, 1.0), repeat("MEMCPY", 1, 1000, 1.0));
        assertThat(point("MEMCPY", limit).flagged(List.of(), 0.25).flags()).isEmpty();
        List<ComparePoint.Repeat> below = List.of(repeat("PINNED", 0, 1000, 0.5), repeat("PINNED", 1, 1000, 1.2),
                repeat("PINNED", 2, 1000, 0.6));
        assertThat(point("PINNED", below).flagged(List.of(), 0.25).flags()).as("the median is what is judged").isEmpty();
    }

    @Test
    void aPointWhoseRepeatsDisagreeBeyondTheThresholdIsFlaggedSpread() {
        // 800, 1000, 1300 messages in 1 s each: (1300 − 800) ÷ 1000 = 0.5
        List<ComparePoint.Repeat> noisy = List.of(repeat("PINNED", 0, 800, 0.5), repeat("PINNED", 1, 1000, 0.5),
                repeat("PINNED", 2, 1300, 0.5));
        ComparePoint p = point("PINNED", noisy);
        assertThat(p.gigabytes().relative()).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(p.flagged(List.of(), 0.25).flags()).containsExactly(ComparePoint.SPREAD);
        assertThat(p.flagged(List.of(), 0.6).flags()).isEmpty();
        assertThat(p.flagged(List.of(ComparePoint.LOSS, ComparePoint.STALL), 0.6).flags())
                .containsExactly(ComparePoint.LOSS, ComparePoint.STALL);
        assertThat(p.flagged(List.of(), 0.25).csvRow()).endsWith(",0.500,spread");
    }

    @Test
    void aPointSumsItsRepeatsMessagesAndTimeAndReportsTheMedianRate() {
        ComparePoint p = point("PINNED", List.of(repeat("PINNED", 0, 800, 0.5), repeat("PINNED", 1, 1000, 0.5),
                repeat("PINNED", 2, 1300, 0.5)));
        assertThat(p.messages()).isEqualTo(3100);
        assertThat(p.seconds()).isEqualTo(3.0);
        assertThat(p.messagesPerSecond()).isEqualTo(1000.0);
        assertThat(p.gigabytesPerSecond()).isEqualTo(1000.0 * 1000 / 1e9);
    }

    @Test
    void plotTicksAreSizesInBytesKibibytesAndMebibytes() {
        ThroughputChart.SizeFormat f = new ThroughputChart.SizeFormat();
        assertThat(f.format(64.0)).isEqualTo("64 B");
        assertThat(f.format(4096.0)).isEqualTo("4 KiB");
        assertThat(f.format(1048576.0)).isEqualTo("1 MiB");
    }
}
