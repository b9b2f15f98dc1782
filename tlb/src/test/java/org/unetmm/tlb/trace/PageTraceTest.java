package org.unetmm.tlb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The generators: seeded, inside their region, and shaped as named. */
class PageTraceTest {
    private static void assertSame(PageTrace a, PageTrace b) {
        assertThat(a.length()).isEqualTo(b.length());
        for (int i = 0; i < a.length(); i++) {
            assertThat(a.key(i)).as("%s, access %d", a, i).isEqualTo(b.key(i));
        }
    }

    @Test
    void sameSeedGivesTheSameTraceAndAnotherSeedAnother() {
        assertSame(PageTrace.zipf(2, 500, 0.99, 5000, 42), PageTrace.zipf(2, 500, 0.99, 5000, 42));
        assertSame(PageTrace.loop(2, 500, 30, 5000, 42), PageTrace.loop(2, 500, 30, 5000, 42));
        PageTrace a = PageTrace.uniform(1, 500, 5000, 42);
        PageTrace b = PageTrace.uniform(1, 500, 5000, 43);
        int differ = 0;
        for (int i = 0; i < a.length(); i++) {
            differ += a.page(i) != b.page(i) ? 1 : 0;
        }
        assertThat(differ).as("seeds 42 and 43").isGreaterThan(4000);
    }

    @Test
    void everyAccessLiesInsideItsContextsRegion() {
        for (PageTrace trace : new PageTrace[] {PageTrace.uniform(3, 37, 10_000, 1), PageTrace.zipf(3, 37, 1.2, 10_000, 1),
                PageTrace.sequential(3, 37, 10_000, 1), PageTrace.loop(3, 37, 11, 10_000, 1)}) {
            for (int i = 0; i < trace.length(); i++) {
                assertThat(trace.page(i)).as("%s, access %d", trace, i).isBetween(0, 36);
                assertThat(trace.context(i)).as("%s, access %d", trace, i).isBetween(0, 2);
            }
            assertThat(trace.contexts()).isEqualTo(3);
            assertThat(trace.pages()).isEqualTo(37);
        }
    }

    @Test
    void zipfConcentratesOnAFewHotPages() {
        PageTrace trace = PageTrace.zipf(1, 1000, 0.99, 100_000, 7);
        int[] counts = new int[1000];
        for (int i = 0; i < trace.length(); i++) {
            counts[trace.page(i)]++;
        }
        java.util.Arrays.sort(counts);
        long top10 = 0;
        for (int r = 0; r < 10; r++) {
            top10 += counts[999 - r];
        }
        // H(10, 0.99) / H(1000, 0.99) ≈ 0.38 of accesses go to the 10 hottest of 1000 pages
        assertThat((double) top10 / trace.length()).as("seed 7: share of the 10 hottest pages").isBetween(0.33, 0.43);
        PageTrace flat = PageTrace.zipf(1, 1000, 0.0, 100_000, 7);
        int[] flatCounts = new int[1000];
        for (int i = 0; i < flat.length(); i++) {
            flatCounts[flat.page(i)]++;
        }
        assertThat(java.util.Arrays.stream(flatCounts).max().getAsInt()).as("θ = 0 is uniform").isLessThan(200);
    }

    @Test
    void sequentialSweepsInAddressOrderAndLoopRepeatsItsWorkingSet() {
        PageTrace sweep = PageTrace.sequential(1, 10, 25, 3);
        for (int i = 1; i < sweep.length(); i++) {
            assertThat(sweep.page(i)).isEqualTo((sweep.page(i - 1) + 1) % 10);
        }
        PageTrace loop = PageTrace.loop(1, 100, 7, 70, 3);
        assertThat(loop.distinctPages()).isEqualTo(7);
        for (int i = 7; i < loop.length(); i++) {
            assertThat(loop.page(i)).isEqualTo(loop.page(i - 7));
        }
    }

    @Test
    void badGeneratorArgumentsAreRefused() {
        assertThatThrownBy(() -> PageTrace.uniform(0, 10, 10, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PageTrace.uniform(1, 0, 10, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PageTrace.zipf(1, 10, -0.5, 10, 1)).hasMessageContaining("θ");
        assertThatThrownBy(() -> PageTrace.loop(1, 10, 11, 10, 1)).hasMessageContaining("working set");
        assertThatThrownBy(() -> PageTrace.of("x", new int[1], new int[2])).isInstanceOf(IllegalArgumentException.class);
    }
}
