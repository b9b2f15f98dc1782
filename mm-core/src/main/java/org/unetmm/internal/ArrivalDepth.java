package org.unetmm.internal;

import org.unetmm.pinning.NativeMemory;

/**
 * How many pages of their posted buffers an endpoint's messages have reached lately, so that the
 * receive prefetch ({@link ReceivePrefetch}) translates what arrivals use rather than the whole
 * share of a buffer they never fill. The depth follows a larger message at once (from then on
 * its successors find their pages translated) and falls back to the deepest of the last
 * {@value #WINDOW} messages after each {@value #WINDOW}, so one large message among small ones
 * costs a window of deeper prefetches, not the endpoint's life. Before the first message it says
 * nothing, and the prefetch takes its whole share. Engine only.
 */
final class ArrivalDepth {
    /** Messages after which the depth falls back to the deepest of them. */
    static final int WINDOW = 64;
    private static final int PAGE_SHIFT = Long.numberOfTrailingZeros(NativeMemory.pageSize());

    /** Pages the recent messages reached; 0 until the first message. */
    private long depth;
    private long deepestInWindow;
    private int inWindow;

    /** A message of {@code length} bytes arrived at {@code address} (its first byte in the buffer). */
    void arrived(long address, int length) {
        long pages = length == 0 ? 1 : ((address + length - 1) >>> PAGE_SHIFT) - (address >>> PAGE_SHIFT) + 1;
        if (pages > depth) {
            depth = pages;
        }
        if (pages > deepestInWindow) {
            deepestInWindow = pages;
        }
        if (++inWindow == WINDOW) {
            depth = deepestInWindow;
            deepestInWindow = 0;
            inWindow = 0;
        }
    }

    /** The pages of a posted buffer worth translating ahead, at most {@code share}, at least one. */
    long pages(long share) {
        return depth == 0 ? share : Math.max(1, Math.min(share, depth));
    }
}
