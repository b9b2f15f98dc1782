package org.unetmm.tlb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.tlb.ReplacementPolicy;
import org.unetmm.tlb.TlbConfig;

/**
 * The static top-C bound: exact from the generator's distribution, absent where there is none,
 * and not beaten by any online policy on independent-reference traces over a long run.
 */
@Timeout(120)
class StaticTopCBoundTest {
    @Test
    void uniformBoundIsCapacityOverPagesAcrossContexts() {
        assertThat(PageTrace.uniform(1, 400, 10, 1).staticTopCHitRate(100).getAsDouble()).isCloseTo(0.25, within(1e-12));
        assertThat(PageTrace.uniform(2, 100, 10, 1).staticTopCHitRate(50).getAsDouble()).isCloseTo(0.25, within(1e-12));
        assertThat(PageTrace.uniform(1, 10, 10, 1).staticTopCHitRate(64).getAsDouble()).isCloseTo(1.0, within(1e-12));
    }

    @Test
    void zipfBoundIsTheHeadOfTheHarmonicSum() {
        int pages = 1024;
        double theta = 0.99;
        double total = 0;
        double head = 0;
        for (int r = 1; r <= pages; r++) {
            total += Math.pow(r, -theta);
            if (r <= 256) {
                head += Math.pow(r, -theta);
            }
        }
        assertThat(PageTrace.zipf(1, pages, theta, 10, 7).staticTopCHitRate(256).getAsDouble())
                .isCloseTo(head / total, within(1e-9));
        // two contexts, equally likely: the 256 most probable pairs are the top 128 ranks of each
        double head128 = 0;
        for (int r = 1; r <= 128; r++) {
            head128 += Math.pow(r, -theta);
        }
        assertThat(PageTrace.zipf(2, pages, theta, 10, 7).staticTopCHitRate(256).getAsDouble())
                .isCloseTo(head128 / total, within(1e-9));
    }

    @Test
    void tracesNotDrawnIndependentlyHaveNoBound() {
        assertThat(PageTrace.sequential(1, 100, 10, 1).staticTopCHitRate(10)).isEmpty();
        assertThat(PageTrace.loop(1, 100, 50, 10, 1).staticTopCHitRate(10)).isEmpty();
        assertThat(PageTrace.of("given", null, new int[] {1, 2, 3}).staticTopCHitRate(10)).isEmpty();
    }

    /**
     * Tolerance 0.01: about ten standard errors of a hit rate measured over 200,000 accesses
     * (√(¼ / 200,000) ≈ 0.0011), so a policy really above the bound fails and noise does not.
     */
    @Test
    void noOnlinePolicyBeatsTopCOnLongIndependentTraces() {
        int length = 200_000;
        for (double theta : new double[] {0.6, 0.99, 1.2}) {
            PageTrace trace = PageTrace.zipf(1, 1024, theta, length, 17);
            for (int entries : new int[] {64, 256}) {
                double bound = trace.staticTopCHitRate(entries).getAsDouble();
                for (ReplacementPolicy policy : ReplacementPolicy.values()) {
                    for (int ways : new int[] {entries, 4}) {
                        TlbConfig config = TlbConfig.builder().entries(entries).ways(ways).policy(policy).seed(3).build();
                        double hitRate = TraceRunner.simulate(trace, config).tlbHitRate();
                        assertThat(hitRate).as("seed 17, %s, %s: hit rate vs top-C %.4f", trace, config, bound)
                                .isLessThanOrEqualTo(bound + 0.01);
                    }
                }
            }
        }
    }
}
