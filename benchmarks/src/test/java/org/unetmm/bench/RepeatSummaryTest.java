package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** What the commands that repeat their measurements report from their repeats. */
class RepeatSummaryTest {
    /**
     * The machine slowed down between the two repeats, both sides alike: each pair's ratio is 0.5,
     * so the summary is 0.5 [0.5–0.5], where the ratio of the medians (150 ÷ 240) would say 0.625.
     */
    @Test
    void ratiosAreTakenPerRepeatPairSoDriftThatHitsBothSidesCancels() {
        ComparePoint.Spread r = RepeatSummary.ratios(new double[] {200, 100}, new double[] {400, 200});
        assertThat(r).isEqualTo(new ComparePoint.Spread(0.5, 0.5, 0.5));
        ComparePoint.Spread mixed = RepeatSummary.ratios(new double[] {1, 3, 2}, new double[] {1, 1, 1});
        assertThat(mixed).isEqualTo(new ComparePoint.Spread(2, 1, 3));
    }

    @Test
    void ratiosOfUnpairedRepeatsAreRefused() {
        assertThatThrownBy(() -> RepeatSummary.ratios(new double[] {1, 2}, new double[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 numerators, 1 denominators");
    }

    @Test
    void aSpreadIsFlaggedOnlyAboveTheThresholdAndNeverForOneRepeat() {
        assertThat(RepeatSummary.spreadAbove(new double[] {90, 100, 110}, 0.25)).as("(110-90)/100 = 0.2").isFalse();
        assertThat(RepeatSummary.spreadAbove(new double[] {70, 100, 110}, 0.25)).as("(110-70)/100 = 0.4").isTrue();
        assertThat(RepeatSummary.spreadAbove(new double[] {5}, 0.25)).isFalse();
    }

    @Test
    void tableAndCsvCellsCarryTheMedianWithItsMinAndMaxAndLeaveNaNEmpty() {
        ComparePoint.Spread s = new ComparePoint.Spread(12.3, 11.9, 13.1);
        assertThat(RepeatSummary.text(s, "%.2f", 3)).isEqualTo("12.30 [11.90–13.10]");
        assertThat(RepeatSummary.text(s, "%.2f", 1)).isEqualTo("12.30");
        assertThat(RepeatSummary.csv(s, "%.1f")).isEqualTo("12.3,11.9,13.1");
        assertThat(RepeatSummary.csv(new ComparePoint.Spread(Double.NaN, Double.NaN, Double.NaN), "%.1f")).isEqualTo(",,");
        assertThat(RepeatSummary.csvHeader("p50_us")).isEqualTo("p50_us,p50_us_min,p50_us_max");
    }

    @Test
    void aHistogramThatRecordedNothingHasNoPercentileRatherThanZero() {
        Histogram h = new Histogram(60_000_000_000L, 3);
        assertThat(RepeatSummary.micros(h, 50)).isNaN();
        h.recordValue(2_000);
        assertThat(RepeatSummary.micros(h, 50)).isEqualTo(2.0);
    }
}
