package org.unetmm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Statistics counters with one writer thread each and readers anywhere: the project's one
 * counter style. Writes are plain-speed opaque stores (no fence, unlike a volatile {@code ++},
 * which costs a full barrier per message on the data path); reads are opaque loads, which see
 * each counter's latest value without tearing, on any thread. Name the slots with constants
 * beside the counters' owner ({@code static final int DATAGRAMS_SENT = 0; ...}).
 *
 * <p>"One writer" means one thread at a time, with a happens-before edge between successive
 * writers — the NIC's engine lock, say, which the engine thread and callers of
 * {@code Nic.progress()} take in turn. A counter that two threads may bump at the same time
 * would lose increments here (read, add, store is not atomic): give it a {@code LongAdder} or
 * an {@code AtomicLong}, and say in a comment who its writers are.
 *
 * <p>A reader sees each counter on its own: two counters read one after the other are not a
 * snapshot of one moment.
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
