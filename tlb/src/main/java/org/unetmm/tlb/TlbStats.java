package org.unetmm.tlb;

import org.HdrHistogram.Histogram;

/**
 * A snapshot of a {@link Tlb}'s counters since it was built.
 *
 * @param hits        lookups that found a valid translation (no trap)
 * @param misses      lookups that trapped into the {@link MissHandler}
 * @param prefetches  pages {@link Tlb#prefetch} translated ahead (each a trap; not counted as misses)
 * @param evictions   valid entries displaced to make room for a new translation
 * @param shootdowns  valid entries removed by invalidation: {@link Tlb#invalidate},
 *                    {@link Tlb#invalidateContext}, {@link Tlb#closeContext} and the pin cache's
 *                    shootdowns (not {@link Tlb#close()})
 * @param retries     translations discarded because a shootdown overlapped the miss that produced them
 * @param missLatency nanoseconds per trap (lookup miss or prefetch), from the lookup to the
 *                    insertion, retries included; a copy the caller owns
 */
public record TlbStats(long hits, long misses, long prefetches, long evictions, long shootdowns, long retries,
                       Histogram missLatency) {

    /** {@return lookups made: hits + misses} */
    public long lookups() {
        return hits + misses;
    }

    /** {@return the fraction of lookups that hit; 0 before the first lookup} */
    public double hitRate() {
        long all = lookups();
        return all == 0 ? 0.0 : (double) hits / all;
    }

    @Override
    public String toString() {
        return String.format("hits=%d misses=%d (hit rate %.4f) prefetches=%d evictions=%d shootdowns=%d retries=%d"
                        + " miss mean=%.0fns p99=%dns",
                hits, misses, hitRate(), prefetches, evictions, shootdowns, retries,
                missLatency.getTotalCount() == 0 ? 0.0 : missLatency.getMean(),
                missLatency.getValueAtPercentile(99));
    }
}
