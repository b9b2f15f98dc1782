package org.unetmm.tlb.trace;

import java.util.Arrays;
import org.unetmm.tlb.AccessRecorder;

/**
 * Records a {@link org.unetmm.tlb.Tlb}'s lookups into preallocated arrays, for
 * {@link PageTrace#ofVirtualPages}: {@code tlb.record(recorder)}, run the traffic, then
 * {@link #trace}. A lookup costs two array stores and allocates nothing; once the capacity is
 * used, lookups are counted in {@link #dropped} and not kept, so the trace is the first
 * {@code capacity} lookups. Written by the NIC thread only; read it after the traffic it recorded
 * is complete.
 */
public final class PageTraceRecorder implements AccessRecorder {
    private final int[] contexts;
    private final long[] pages;
    private int size;
    private long dropped;

    /**
     * A recorder that keeps the first {@code capacity} lookups (12 bytes each, allocated now).
     *
     * @param capacity lookups to keep, positive
     */
    public PageTraceRecorder(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a trace recorder needs room for at least one access, got " + capacity);
        }
        this.contexts = new int[capacity];
        this.pages = new long[capacity];
    }

    @Override
    public void lookedUp(int context, long page) {
        int at = size;
        if (at == pages.length) {
            dropped++;
            return;
        }
        contexts[at] = context;
        pages[at] = page;
        size = at + 1;
    }

    /** {@return lookups recorded} */
    public int size() {
        return size;
    }

    /** {@return lookups seen after the recorder was full and not kept} */
    public long dropped() {
        return dropped;
    }

    /**
     * What was recorded, as a trace of virtual page numbers.
     *
     * @param name what the trace is, for tables and files
     * @return a new trace, copied from the recorder
     */
    public PageTrace trace(String name) {
        return PageTrace.ofVirtualPages(name, Arrays.copyOf(contexts, size), Arrays.copyOf(pages, size));
    }
}
