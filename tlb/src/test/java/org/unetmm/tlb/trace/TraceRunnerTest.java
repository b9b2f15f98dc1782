package org.unetmm.tlb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PinCacheConfig;
import org.unetmm.pinning.ProcessStatus;
import org.unetmm.tlb.ReplacementPolicy;
import org.unetmm.tlb.TlbConfig;

/** Trace-driven runs over real memory: the figures agree with the kernel and with each other. */
@Timeout(120)
class TraceRunnerTest {
    private static final long PAGE = NativeMemory.pageSize();

    @Test
    void pinnedRunAgreesWithTheKernelAndLeavesNothingLocked() {
        long baseline = ProcessStatus.vmLckBytes();
        PageTrace trace = PageTrace.zipf(2, 256, 0.99, 20_000, 5);
        TlbConfig tlb = TlbConfig.builder().entries(64).ways(4).policy(ReplacementPolicy.CLOCK).build();
        TraceResult result = TraceRunner.run(trace, tlb, PinCacheConfig.builder().budgetBytes(128 * PAGE).build());
        assertThat(result.pinned()).isTrue();
        assertThat(result.accesses()).isEqualTo(20_000);
        assertThat(result.kernelLockedBytes()).as("seed 5: %s", result).isEqualTo(result.libraryPinnedBytes());
        assertThat(result.tlbHitRate()).as("seed 5: %s", result).isPositive().isLessThanOrEqualTo(result.optHitRate());
        assertThat(result.peakPinnedBytes()).as("the budget bounds the peak").isLessThanOrEqualTo(128 * PAGE)
                .isGreaterThanOrEqualTo(64 * PAGE);
        assertThat(result.pinsPerAccess()).as("a pin per TLB miss at most").isPositive()
                .isLessThanOrEqualTo(1 - result.tlbHitRate());
        assertThat(result.unpinsPerAccess()).as("the budget forced unpins").isPositive();
        assertThat(result.pinCacheHitRate()).isBetween(0.0, 1.0);
        assertThat(result.meanMissNanos()).isPositive();
        assertThat(result.p99MissNanos()).isPositive();
        assertThat(result.toString()).contains("OPT").contains("VmLck");
        assertThat(ProcessStatus.vmLckBytes()).as("after the run").isEqualTo(baseline);
    }

    @Test
    void modelRunAndPinnedRunHitAlike() {
        PageTrace trace = PageTrace.loop(1, 200, 60, 5_000, 8);
        TlbConfig tlb = TlbConfig.fullyAssociative(32, ReplacementPolicy.LRU);
        TraceResult model = TraceRunner.simulate(trace, tlb);
        TraceResult pinned = TraceRunner.run(trace, tlb, PinCacheConfig.builder().budgetBytes(256 * PAGE).build());
        assertThat(model.pinned()).isFalse();
        assertThat(model.tlbHitRate()).as("seed 8: hit or miss depends on the trace, not on pinning")
                .isEqualTo(pinned.tlbHitRate());
        assertThat(model.tlbHitRate()).as("a loop of 60 pages through 32 LRU entries always misses").isZero();
        assertThat(model.optHitRate()).isPositive();
        assertThat(pinned.pinCacheHitRate()).as("every page fits the pin budget: re-pins are cache hits")
                .isGreaterThan(0.9);
    }

    @Test
    void budgetBelowOnePageIsRefusedBeforeTheRun() {
        assertThatThrownBy(() -> TraceRunner.run(PageTrace.uniform(1, 10, 10, 1),
                TlbConfig.fullyAssociative(64, ReplacementPolicy.LRU),
                PinCacheConfig.builder().budgetBytes(PAGE / 2).build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("raise the budget to at least");
    }

    @Test
    void budgetSmallerThanTheTlbReachShrinksTheTlbInsteadOfFailing() {
        long budget = 16 * PAGE;
        TraceResult result = TraceRunner.run(PageTrace.uniform(1, 40, 4000, 7),
                TlbConfig.fullyAssociative(64, ReplacementPolicy.LRU), PinCacheConfig.builder().budgetBytes(budget).build());
        assertThat(result.peakPinnedBytes()).as("pinned peak within the budget").isLessThanOrEqualTo(budget);
        assertThat(result.kernelLockedBytes()).as("the kernel agrees").isEqualTo(result.libraryPinnedBytes());
        assertThat(result.tlbHitRate()).as("at most 16 of 40 pages can stay translated")
                .isLessThan(16.0 / 40 + 0.05).isLessThanOrEqualTo(result.optHitRate());
        assertThat(result.tlbStats().evictions()).as("translations given up under pin pressure").isPositive();
    }

    @Test
    void policyComparisonPutsEveryPolicyBelowOpt() {
        PolicyComparison comparison = PolicyComparison.zipf(64, 50_000, 3);
        assertThat(comparison.hitRates()).containsOnlyKeys(ReplacementPolicy.values());
        comparison.hitRates().forEach((policy, rate) ->
                assertThat(rate).as("seed 3, %s", policy).isPositive().isLessThanOrEqualTo(comparison.optHitRate()));
        assertThat(comparison.table()).contains("LRU").contains("CLOCK").contains("RANDOM").contains("OPT");
    }
}
