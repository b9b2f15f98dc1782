package org.unetmm.internal;

import java.nio.ByteBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.tlb.Tlb;

/**
 * How much of a posted receive buffer the NIC translates ahead: at most its share of half the
 * TLB (the other half is the sends'), that is half the entries divided among the slots of every
 * open free queue, and at least a page. The free queue hands buffers out in the order they were
 * posted, so a server posting more bytes than the TLB reaches would otherwise evict, with each
 * post, the translations of the buffers posted before it, which arrive first, and trap once per
 * page for bytes a small message never touches (17 traps a call for an RPC server's 64 KiB
 * request buffers). Pages past the share are translated when a message reaches them. Engine lock held.
 */
final class ReceivePrefetch {
    private final int entries;
    private long pages = 1;

    ReceivePrefetch(int tlbEntries) {
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

    /** Translates the first pages of the posted range, up to the share. */
    void prefetch(Tlb tlb, EndpointState ep, ByteBuffer buffer, int offset, int length) {
        long start = NativeMemory.address(buffer) + offset;
        long page = NativeMemory.pageSize();
        long limit = (start & -page) + pages * page;
        tlb.prefetch(ep.context, buffer, start, Math.min(length, limit - start));
    }
}
