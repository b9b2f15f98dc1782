package org.unetmm.tlb.trace;

import org.unetmm.pinning.PinStats;
import org.unetmm.tlb.TlbConfig;
import org.unetmm.tlb.TlbStats;

/**
 * What one trace-driven run measured, each hit rate beside its bound. Rates are per access of the
 * trace; latencies in nanoseconds; byte figures from the pin cache and, for
 * {@code kernelLockedBytes}, from the kernel's VmLck (less what was locked before the run), read
 * at the end of the run while everything was still pinned: the two agree when nothing else in the
 * process locks memory.
 *
 * @param trace              the trace's name and length
 * @param tlb                the TLB's shape and policy
 * @param accesses           lookups made
 * @param tlbHitRate         fraction of lookups the TLB hit
 * @param optHitRate         Bélády's OPT on the same trace, fully associative, same entries: the bound
 * @param topCHitRate        the static top-C bound of the trace's generator ({@link PageTrace#staticTopCHitRate}),
 *                           NaN for a trace without one (sequential, loop, recorded)
 * @param pinCacheHitRate    fraction of TLB misses the pin cache served without pinning; NaN in a model run
 * @param pinsPerAccess      mlock calls per access (0 in a model run)
 * @param unpinsPerAccess    munlock calls per access during the run (0 in a model run)
 * @param meanMissNanos      mean TLB miss latency (the trap, pinning included)
 * @param p99MissNanos       99th percentile TLB miss latency
 * @param peakPinnedBytes    most bytes the pin cache had locked at once (0 in a model run)
 * @param libraryPinnedBytes bytes the pin cache had locked at the end of the run
 * @param kernelLockedBytes  VmLck growth at the end of the run, as the kernel counts it
 * @param tlbStats           the TLB's counters
 * @param pinStats           the pin cache's counters, or {@code null} in a model run
 */
public record TraceResult(String trace, TlbConfig tlb, long accesses, double tlbHitRate, double optHitRate,
                          double topCHitRate,
                          double pinCacheHitRate, double pinsPerAccess, double unpinsPerAccess,
                          double meanMissNanos, long p99MissNanos, long peakPinnedBytes,
                          long libraryPinnedBytes, long kernelLockedBytes, TlbStats tlbStats, PinStats pinStats) {

    /** {@return whether the run pinned real memory (otherwise it was a model run: hits and misses only)} */
    public boolean pinned() {
        return pinStats != null;
    }

    /** {@return TLB hit rate ÷ OPT's: how much of the achievable the policy achieved (1 when OPT is 0)} */
    public double fractionOfOpt() {
        return optHitRate == 0 ? 1.0 : tlbHitRate / optHitRate;
    }

    @Override
    public String toString() {
        String rates = String.format("%s on %s: TLB hit %.4f (OPT %.4f, top-C %s)", tlb, trace, tlbHitRate, optHitRate,
                Double.isNaN(topCHitRate) ? "none" : String.format("%.4f", topCHitRate));
        if (!pinned()) {
            return rates + " [model run]";
        }
        return rates + String.format(", pin cache hit %.4f, pins/access %.4f, unpins/access %.4f,"
                        + " miss mean %.0fns p99 %dns, pinned peak %d B, end %d B (kernel VmLck +%d B)",
                pinCacheHitRate, pinsPerAccess, unpinsPerAccess, meanMissNanos, p99MissNanos, peakPinnedBytes,
                libraryPinnedBytes, kernelLockedBytes);
    }
}
