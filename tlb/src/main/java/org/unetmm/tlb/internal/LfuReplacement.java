package org.unetmm.tlb.internal;

import org.unetmm.tlb.TlbConfig;

/**
 * LFU with aging, its frequencies kept the way TinyLFU keeps them (Einziger, Friedman, Manes,
 * "TinyLFU: A Highly Efficient Cache Admission Policy", ACM Transactions on Storage 13(4), 2017),
 * adapted to a TLB whose hit path may write one word and whose miss must always insert.
 *
 * <p>Each entry's recency word is a counter, saturating at {@link #MAX_COUNT}, of how often its
 * page was asked for recently; a hit adds one. A page that is not resident is remembered only in a
 * {@link FrequencySketch} shared by all sets, which counts the misses of every page. When a miss
 * fills an entry, the sketch counts that miss and the entry starts at the sketch's estimate for
 * its page, so a page that keeps coming back arrives with its history. The victim is the entry of
 * the set with the smallest counter (the oldest fill among equals); before it goes, its counter
 * (estimate at fill plus its hits) is folded into the sketch, so its history survives eviction.
 * Every {@link #agingPeriod(int) 32 × entries} fills, TinyLFU's reset halves the sketch and
 * every entry's counter: a page once hot but no longer asked for loses half its count per period
 * and is displaced.
 *
 * <p>TinyLFU proper rejects a newcomer less frequent than the victim; a TLB must install the
 * translation it just fetched, so here the cold newcomer is admitted and, having the smallest
 * count, is the next victim: one entry of the set churns while the others hold the pages with the
 * highest counts. On independent requests (zipf) that is close to keeping the most probable pages
 * for ever, the static top-C bound, and a scan of pages seen once displaces only the churning
 * entry.
 *
 * <p>Costs: a hit is a load and a store to the recency word, no branch (as S3-FIFO's counter), no
 * lock, no allocation. The miss path scans the set's ways for the smallest counter (as LRU's does
 * for the oldest stamp) and touches {@link FrequencySketch#DEPTH} sketch counters twice; the
 * reset, once per aging period, sweeps the sketch and the entries. All of this
 * runs on the NIC thread under the TLB's lock; the recency words are written only by the NIC
 * thread, so the reset's halving cannot race a hit. A shootdown ({@link #invalidated}) changes
 * nothing: the entry is vacant and refilled first, with a fresh count.
 */
public final class LfuReplacement extends Replacement {
    /** The largest count of a resident entry and of a sketch counter. */
    public static final int MAX_COUNT = 255;
    /** Sketch counters per row, per TLB entry. */
    public static final int SKETCH_WIDTH_PER_ENTRY = 16;
    /** Fills between resets, per TLB entry. */
    public static final int AGING_PERIOD_PER_ENTRY = 32;

    private final FrequencySketch sketch;
    private final long[] filledAt;
    private final int agingPeriod;
    private long fills;
    private int sinceReset;

    LfuReplacement(TranslationTable table, TlbConfig config) {
        super(table, config);
        int entryCount = table.entryCount();
        this.sketch = new FrequencySketch(sketchWidth(entryCount), MAX_COUNT);
        this.filledAt = new long[entryCount];
        this.agingPeriod = agingPeriod(entryCount);
    }

    /** The sketch's width for a TLB of {@code entries}. */
    public static int sketchWidth(int entries) {
        return SKETCH_WIDTH_PER_ENTRY * entries;
    }

    /** Fills between two resets for a TLB of {@code entries}. */
    public static int agingPeriod(int entries) {
        return AGING_PERIOD_PER_ENTRY * entries;
    }

    /** One load and one store, no branch: the count goes up by one unless it is already saturated. */
    @Override
    public void touched(int entry) {
        countHit(entry, MAX_COUNT);
    }

    @Override
    public void filled(int entry) {
        int base = entry << TranslationTable.ENTRY_SHIFT;
        int context = (int) (entries[base + TranslationTable.TAG_OFFSET] >>> 1);
        long page = entries[base + TranslationTable.PAGE_OFFSET];
        sketch.increment(context, page);
        entries[base + TranslationTable.RECENCY_OFFSET] = sketch.estimate(context, page);
        filledAt[entry] = ++fills;
        if (++sinceReset == agingPeriod) {
            sinceReset = 0;
            sketch.halve();
            for (int e = 0, n = filledAt.length; e < n; e++) {
                entries[recencyIndex(e)] >>>= 1;
            }
        }
    }

    @Override
    public int victim(int set) {
        int first = set * ways;
        int victim = first;
        long least = entries[recencyIndex(first)];
        for (int entry = first + 1, end = first + ways; entry < end; entry++) {
            long count = entries[recencyIndex(entry)];
            if (count < least || (count == least && filledAt[entry] < filledAt[victim])) {
                victim = entry;
                least = count;
            }
        }
        int base = victim << TranslationTable.ENTRY_SHIFT;
        sketch.raise((int) (entries[base + TranslationTable.TAG_OFFSET] >>> 1),
                entries[base + TranslationTable.PAGE_OFFSET], (int) least);
        return victim;
    }
}
