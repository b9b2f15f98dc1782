package org.unetmm.tlb.internal;

import org.unetmm.tlb.TlbConfig;

/**
 * A replacement policy over the sets of a {@link TranslationTable}: it hears of every hit and
 * fill and names the victim when a set is full. Vacant entries are filled before any victim is
 * chosen; that rule belongs to the TLB, not here. {@link #touched} runs on the NIC thread without
 * the lock and writes only the entry's recency word; {@link #victim}, {@link #filled} and
 * {@link #invalidated} run under the TLB's lock, so the rest of the state is plain fields.
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
            case SIEVE -> new SieveReplacement(table, config);
            case S3FIFO -> new S3FifoReplacement(table, config);
            case LFU -> new LfuReplacement(table, config);
        };
    }

    /** A lookup or prefetch hit the entry. On the hit path: one store at most, no allocation. */
    public abstract void touched(int entry);

    /** The entry was just filled by a miss. */
    public abstract void filled(int entry);

    /**
     * The entry of a full set to displace. It stays the policy's until {@link #filled} or
     * {@link #invalidated} says what became of it (the TLB may pick it and keep it).
     */
    public abstract int victim(int set);

    /**
     * A shootdown (or close) cleared the entry's valid bit. Under the TLB's lock, from any
     * thread; it must not write the recency words, which the NIC thread's hits write unlocked.
     */
    public void invalidated(int entry) {
    }

    /**
     * A hit on a counting policy: the entry's recency word goes up by one unless it is already
     * {@code max}. One load and one store, no branch (the sign of {@code count - max} is the step).
     */
    protected final void countHit(int entry, long max) {
        int at = recencyIndex(entry);
        long count = entries[at];
        entries[at] = count + ((count - max) >>> 63);
    }

    protected static int recencyIndex(int entry) {
        return (entry << TranslationTable.ENTRY_SHIFT) + TranslationTable.RECENCY_OFFSET;
    }
}
