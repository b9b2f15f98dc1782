package org.unetmm.tlb.trace;

import java.nio.ByteBuffer;
import org.HdrHistogram.Histogram;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PageTranslator;
import org.unetmm.pinning.PinCache;
import org.unetmm.pinning.PinCacheConfig;
import org.unetmm.pinning.PinStats;
import org.unetmm.pinning.ProcessStatus;
import org.unetmm.tlb.MissHandler;
import org.unetmm.tlb.Tlb;
import org.unetmm.tlb.TlbConfig;
import org.unetmm.tlb.TlbStats;

/**
 * Replays a {@link PageTrace} against a TLB: {@link #run} over real memory, a real
 * {@link PinCache} and real mlock, for memory-pressure experiments; {@link #simulate} with an
 * unpinned model handler, for hit rates alone. Both report {@link BeladyOpt}'s bound and, for a
 * trace drawn independently, the static top-C bound ({@link PageTrace#staticTopCHitRate}) beside
 * the measured hit rate.
 *
 * <p>{@code run} maps each context of the trace onto its own region of {@code pages()} pages from
 * {@link NativeMemory#allocate} (mmap), faulted in before the run so the first miss measures
 * pinning, not first touch; access i looks up the first byte of its page. Everything the run
 * allocates and pins is released before it returns, even when it fails.
 */
public final class TraceRunner {
    private static final long PAGE = NativeMemory.pageSize();

    private TraceRunner() {
    }

    /**
     * Drives a TLB over a pin cache of the given budget with the trace, over real pages.
     *
     * <p>A budget smaller than the TLB's reach is a legal experiment: when a miss cannot pin for
     * lack of budget the TLB gives up one of its own translations so its page can be unpinned
     * (see {@link Tlb}), so the TLB effectively shrinks to what the budget holds.
     *
     * @throws IllegalArgumentException if the budget holds less than one page
     * @param trace     the accesses
     * @param tlbConfig the TLB's shape and policy
     * @param pinConfig the pin cache's budget and idle caps
     * @return what the run measured, each hit rate beside its bound
     */
    public static TraceResult run(PageTrace trace, TlbConfig tlbConfig, PinCacheConfig pinConfig) {
        if (!pinConfig.budget().isUnlimited() && pinConfig.budget().bytes() < PAGE) {
            throw new IllegalArgumentException("pin budget of " + pinConfig.budget().bytes() + " bytes cannot hold one page"
                    + " of " + PAGE + " bytes: raise the budget to at least " + PAGE + " bytes");
        }
        if ((long) trace.pages() * PAGE > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a region of " + trace.pages() + " pages is too large to map as one"
                    + " ByteBuffer: use fewer pages per context (at most " + Integer.MAX_VALUE / PAGE + ")");
        }
        NativeBuffer[] regions = new NativeBuffer[trace.contexts()];
        long baseline = ProcessStatus.vmLckBytes();
        try (PageTranslator translator = PageTranslator.open();
             PinCache cache = new PinCache(pinConfig);
             Tlb tlb = Tlb.over(tlbConfig, cache, translator)) {
            int[] contexts = new int[trace.contexts()];
            ByteBuffer[] owners = new ByteBuffer[trace.contexts()];
            long[] bases = new long[trace.contexts()];
            for (int c = 0; c < regions.length; c++) {
                regions[c] = NativeMemory.allocate((int) (trace.pages() * PAGE));
                owners[c] = regions[c].buffer();
                bases[c] = regions[c].address();
                for (long offset = 0; offset < owners[c].capacity(); offset += PAGE) {
                    owners[c].put((int) offset, (byte) 1);
                }
                contexts[c] = tlb.openContext();
            }
            for (int i = 0; i < trace.length(); i++) {
                int c = trace.context(i);
                tlb.lookup(contexts[c], owners[c], bases[c] + trace.page(i) * PAGE);
            }
            TlbStats tlbStats = tlb.stats();
            PinStats pinStats = cache.stats();
            long kernel = ProcessStatus.vmLckBytes() - baseline;
            long accesses = trace.length();
            double pinCacheHitRate = pinStats.hits() + pinStats.misses() == 0 ? Double.NaN : pinStats.hitRate();
            return result(trace, tlbConfig, tlbStats, pinCacheHitRate, perAccess(pinStats.lockCalls(), accesses),
                    perAccess(pinStats.unlockCalls(), accesses), pinStats.peakPinnedBytes(), pinStats.pinnedBytes(),
                    kernel, pinStats);
        } finally {
            for (NativeBuffer region : regions) {
                if (region != null) {
                    region.close();
                }
            }
        }
    }

    /**
     * Replays the trace against a TLB whose misses pin nothing ({@link MissHandler#unpinned()}).
     *
     * @param trace     the accesses
     * @param tlbConfig the TLB's shape and policy
     * @return what the run measured (no pin figures), each hit rate beside its bound
     */
    public static TraceResult simulate(PageTrace trace, TlbConfig tlbConfig) {
        try (Tlb tlb = new Tlb(tlbConfig, MissHandler.unpinned())) {
            long[] bases = new long[trace.contexts()];
            int[] contexts = new int[trace.contexts()];
            for (int c = 0; c < contexts.length; c++) {
                contexts[c] = tlb.openContext();
                bases[c] = (c + 1L) << 40; // a distinct, page-aligned model address space per context
            }
            for (int i = 0; i < trace.length(); i++) {
                int c = trace.context(i);
                // a recorded trace replays its own page numbers, so every page maps to the set it had
                long address = trace.isRecorded() ? trace.virtualPage(i) * PAGE : bases[c] + trace.page(i) * PAGE;
                tlb.lookup(contexts[c], null, address);
            }
            return result(trace, tlbConfig, tlb.stats(), Double.NaN, 0, 0, 0, 0, 0, null);
        }
    }

    private static TraceResult result(PageTrace trace, TlbConfig config, TlbStats stats, double pinCacheHitRate,
                                      double pinsPerAccess, double unpinsPerAccess, long peak, long pinned,
                                      long kernel, PinStats pinStats) {
        Histogram latency = stats.missLatency();
        double mean = latency.getTotalCount() == 0 ? 0.0 : latency.getMean();
        return new TraceResult(trace.toString(), config, stats.lookups(), stats.hitRate(),
                BeladyOpt.hitRate(trace, config.entries()), trace.staticTopCHitRate(config.entries()).orElse(Double.NaN),
                pinCacheHitRate, pinsPerAccess, unpinsPerAccess,
                mean, latency.getValueAtPercentile(99), peak, pinned, kernel, stats, pinStats);
    }

    private static double perAccess(long count, long accesses) {
        return accesses == 0 ? 0.0 : (double) count / accesses;
    }
}
