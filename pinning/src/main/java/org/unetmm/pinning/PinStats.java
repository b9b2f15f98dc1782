package org.unetmm.pinning;

import org.HdrHistogram.Histogram;

/**
 * A snapshot of a {@link PinCache}'s counters. A hit is an acquire served without a system call
 * (the region was in use or idle); a miss pinned it. Latencies are in nanoseconds and cover
 * only pins and unpins that made a system call.
 */
public record PinStats(long hits, long misses, long evictions, long invalidations,
                       long pinnedBytes, long peakPinnedBytes, long lockCalls, long unlockCalls,
                       int inUseRegions, int idleRegions, Histogram pinLatency, Histogram unpinLatency) {

    /** {@return hits over all acquires, from 0 to 1; 0 before the first acquire} */
    public double hitRate() {
        long all = hits + misses;
        return all == 0 ? 0.0 : (double) hits / all;
    }

    @Override
    public String toString() {
        return String.format("hits=%d misses=%d (hit rate %.3f) evictions=%d invalidations=%d pinned=%d peak=%d"
                        + " mlock=%d munlock=%d inUse=%d idle=%d pin p50=%dns p99=%dns",
                hits, misses, hitRate(), evictions, invalidations, pinnedBytes, peakPinnedBytes, lockCalls,
                unlockCalls, inUseRegions, idleRegions, pinLatency.getValueAtPercentile(50),
                pinLatency.getValueAtPercentile(99));
    }
}
