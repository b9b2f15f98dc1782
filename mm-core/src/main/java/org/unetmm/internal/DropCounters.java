package org.unetmm.internal;

import org.unetmm.DropReason;

/** Frames the NIC dropped, by reason: written by the engine, read from anywhere. */
public final class DropCounters {
    private static final DropReason[] REASONS = DropReason.values();
    private final Counters counters = new Counters(REASONS.length);

    public void drop(DropReason reason) {
        counters.increment(reason.ordinal());
    }

    /** A snapshot, indexed by {@link DropReason#ordinal()}. */
    public long[] snapshot() {
        long[] values = new long[REASONS.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = counters.get(i);
        }
        return values;
    }
}
