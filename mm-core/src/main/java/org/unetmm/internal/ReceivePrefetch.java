package org.unetmm.internal;

import org.unetmm.pinning.NativeMemory;
import org.unetmm.tlb.Tlb;

/**
 * The NIC's translation of posted receive buffers ahead of their messages, as U-Net/MM's NIC does
 * when it reads the free queue: each round first translates what was posted since the last one,
 * so the application's post takes no lock and an arrival finds its pages in the TLB.
 *
 * <p>How much of a buffer: at most its share of half the TLB (the other half is the sends'),
 * that is half the entries divided among the slots of every open free queue, and at least a page.
 * The free queue hands buffers out in the order they were posted, so a server posting more bytes
 * than the TLB reaches would otherwise evict, with each post, the translations of the buffers
 * posted before it, which arrive first, and trap once per page for bytes a small message never
 * touches (17 traps a call for an RPC server's 64 KiB request buffers). Pages past the share are
 * translated when a message reaches them.
 *
 * <p>And no deeper than this endpoint's recent messages reached ({@link ArrivalDepth}): a share
 * is a bound, not a target. A server posting 64 buffers of 17 pages for 64-byte requests would
 * otherwise translate 8 pages of each, 512 pages of which a call uses 64, and in a set-associative
 * TLB the surplus overflows some sets: under LRU a set cycled through by one page more than its
 * ways misses on every use, so such a server trapped on 1.2 prefetched pages a call, each a
 * {@code pagemap} read (some 8 µs) on a call that otherwise costs as much. Engine lock held.
 */
final class ReceivePrefetch {
    private static final long PAGE = NativeMemory.pageSize();

    private final Tlb tlb;
    private final int entries;
    private long pages = 1;

    ReceivePrefetch(Tlb tlb, int tlbEntries) {
        this.tlb = tlb;
        this.entries = tlbEntries;
    }

    /** Shares the TLB again among the free queues of {@code endpoints} (an endpoint opened or closed). */
    void share(EndpointState[] endpoints) {
        long slots = 0;
        for (EndpointState endpoint : endpoints) {
            slots += endpoint.freeQueue.capacity();
        }
        pages = Math.max(1, entries / (2 * Math.max(1, slots)));
    }

    /**
     * Translates the first pages (up to the share) of each buffer {@code ep} posted since the last
     * call. A prefetch is a hint: one that cannot pin (the budget is spent) is left to the arrival,
     * which pins on demand and reports a failure in its completion.
     */
    void posted(EndpointState ep) {
        SpscRing<ReceiveDescriptor> free = ep.freeQueue;
        long head = free.consumed();
        if (ep.prefetchedUpTo < head) {
            ep.prefetchedUpTo = head; // taken by arrivals before their turn came
        }
        ReceiveDescriptor r;
        while ((r = free.peekAt((int) (ep.prefetchedUpTo - head))) != null) {
            ep.prefetchedUpTo++;
            long start = r.address + r.offset;
            long limit = (start & -PAGE) + ep.arrivalDepth.pages(pages) * PAGE;
            try {
                tlb.prefetch(ep.context, r.buffer, start, Math.min(r.length, limit - start));
            } catch (RuntimeException e) {
                return; // the budget is spent: later posts would fail alike; their arrivals pin or report it
            }
        }
    }
}
