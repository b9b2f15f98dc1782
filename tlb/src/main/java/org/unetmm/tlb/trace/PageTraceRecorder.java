package org.unetmm.tlb.trace;

import java.util.Arrays;
import org.unetmm.tlb.AccessRecorder;

/**
 * Records a {@link org.unetmm.tlb.Tlb}'s lookups into preallocated arrays, for
 * {@link PageTrace#ofVirtualPages}: {@code tlb.record(recorder)}, run the traffic, then
 * {@link #trace}. Up to the capacity given, a lookup costs two array stores and allocates
 * nothing; past it the arrays double (an allocation on the NIC thread, once per doubling), up to
 * {@link #MAX_ACCESSES}, after which lookups are counted in {@link #dropped} but not kept.
 * Written by the NIC thread only; read it after the traffic it recorded is complete.
 */
public final class PageTraceRecorder implements AccessRecorder {
    /** The most accesses one recorder keeps (a trace is indexed by int). */
    public static final int MAX_ACCESSES = Integer.MAX_VALUE - 8;

    private int[] contexts;
    private long[] pages;
    private int size;
    private long dropped;

    /** A recorder with room for {@code capacity} lookups before it must grow. */
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
            if (at == MAX_ACCESSES) {
                dropped++;
                return;
            }
            int grown = (int) Math.min(MAX_ACCESSES, 2L * at);
            contexts = Arrays.copyOf(contexts, grown);
            pages = Arrays.copyOf(pages, grown);
        }
        contexts[at] = context;
        pages[at] = page;
        size = at + 1;
    }

    /** Lookups recorded. */
    public int size() {
        return size;
    }

    /** Lookups seen after the recorder was full and not kept. */
    public long dropped() {
        return dropped;
    }

    /** What was recorded, as a trace of virtual page numbers. */
    public PageTrace trace(String name) {
        return PageTrace.ofVirtualPages(name, Arrays.copyOf(contexts, size), Arrays.copyOf(pages, size));
    }
}
