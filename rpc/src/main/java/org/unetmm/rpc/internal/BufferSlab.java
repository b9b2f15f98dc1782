package org.unetmm.rpc.internal;

import java.nio.ByteBuffer;
import org.unetmm.pinning.NativeMemory;

/**
 * Receive buffers carved from direct slabs so their translations do not evict each other in the
 * NIC's set-associative TLB, whose set is the page number modulo the sets. Allocated one by one,
 * 64 KiB buffers start 16 pages apart (the allocator's header shifts them by a few bytes, never a
 * page), so all of them share 1/16 of the sets: a server cycling through 256 such buffers misses
 * on every request however large the TLB. Here a buffer of a page or more starts on a page, an
 * odd number of pages after the one before it, so consecutive buffers' first pages fall in
 * different sets (an odd stride is coprime with any power-of-two set count); smaller buffers are
 * packed end to end, so they share and fill pages.
 */
public final class BufferSlab {
    /** The most bytes one slab holds; more buffers than that take further slabs. */
    private static final int SLAB_LIMIT = 64 << 20;

    private BufferSlab() {
    }

    /** {@code count} direct buffers of {@code capacity} bytes each (capacity positive), laid out as the class says. */
    public static ByteBuffer[] carve(int count, int capacity) {
        long page = NativeMemory.pageSize();
        long stride;
        if (capacity < page) {
            stride = (capacity + 63L) & -64L; // cache-line aligned, packed
        } else {
            long pages = (capacity + page - 1) / page;
            stride = ((pages & 1) == 0 ? pages + 1 : pages) * page;
        }
        int perSlab = (int) Math.max(1, Math.min(count, (SLAB_LIMIT - page) / stride));
        ByteBuffer[] buffers = new ByteBuffer[count];
        ByteBuffer slab = null;
        int skip = 0;
        for (int i = 0; i < count; i++) {
            int inSlab = i % perSlab;
            if (inSlab == 0) {
                int n = Math.min(perSlab, count - i);
                slab = ByteBuffer.allocateDirect((int) (page + stride * (n - 1) + capacity));
                long address = NativeMemory.address(slab);
                skip = (int) ((page - (address & (page - 1))) & (page - 1));
            }
            buffers[i] = slab.slice((int) (skip + stride * inSlab), capacity);
        }
        return buffers;
    }
}
