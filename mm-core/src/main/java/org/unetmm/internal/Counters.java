package org.unetmm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Statistics counters with one writer thread each and readers anywhere: plain-speed opaque writes
 * (no fence, unlike a volatile {@code ++}, which costs a full barrier per message on the data
 * path) and opaque reads, which see each counter's latest value without tearing.
 */
public final class Counters {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    private final long[] values;

    public Counters(int slots) {
        values = new long[slots];
    }

    /** Writer thread of {@code slot} only. */
    public void add(int slot, long delta) {
        SLOT.setOpaque(values, slot, (long) SLOT.getOpaque(values, slot) + delta);
    }

    /** Writer thread of {@code slot} only. */
    public void increment(int slot) {
        add(slot, 1);
    }

    /** Any thread. */
    public long get(int slot) {
        return (long) SLOT.getOpaque(values, slot);
    }
}
