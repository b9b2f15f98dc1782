package org.unetmm.tlb.internal;

import org.unetmm.tlb.TlbConfig;

/**
 * A replacement policy over the sets of a {@link TranslationTable}: it hears of every hit and
 * fill and names the victim when a set is full. Vacant entries are filled before any victim is
 * chosen; that rule belongs to the TLB, not here. Every method runs on the NIC thread only
 * ({@link #victim} and {@link #filled} under the TLB's lock), so the state is plain fields.
 *
 * <p>The policy's per-entry word is the entry's recency word in the table
 * ({@link TranslationTable#RECENCY_OFFSET}), on the same cache line as the tag a hit reads.
 */
public abstract class Replacement {
    protected final long[] entries;
    protected final int ways;

    protected Replacement(TranslationTable table, TlbConfig config) {
        this.entries = table.entries();
        this.ways = config.ways();
    }

    public static Replacement of(TranslationTable table, TlbConfig config) {
        return switch (config.policy()) {
            case LRU -> new LruReplacement(table, config);
            case CLOCK -> new ClockReplacement(table, config);
            case RANDOM -> new RandomReplacement(table, config);
        };
    }

    /** A lookup or prefetch hit the entry. On the hit path: one store at most, no allocation. */
    public abstract void touched(int entry);

    /** The entry was just filled by a miss. */
    public abstract void filled(int entry);

    /** The entry of a full set to displace. */
    public abstract int victim(int set);

    protected static int recencyIndex(int entry) {
        return (entry << TranslationTable.ENTRY_SHIFT) + TranslationTable.RECENCY_OFFSET;
    }
}
