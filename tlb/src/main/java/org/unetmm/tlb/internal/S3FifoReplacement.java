package org.unetmm.tlb.internal;

import org.unetmm.tlb.TlbConfig;

/**
 * S3-FIFO (Yang, Zhang, Qiu, Yue, Rashmi, "FIFO queues are all you need for cache eviction",
 * SOSP 2023), per set, as its authors' simulator libCacheSim runs it by default.
 *
 * <p>Each set's entries are split between two FIFO queues: a small one S, a tenth of the ways
 * (at least one), where every new translation starts, and a main one M for the rest. A ghost
 * queue G remembers the pages most recently evicted from S (as many as M holds), without their
 * translations. Each entry carries a frequency counter, zero when filled, bumped by a hit and
 * saturating at 3.
 * <ul>
 *   <li>A miss whose page is in G has been evicted young and come back: it skips S and goes
 *       straight into M (and leaves G). Any other miss goes into S.</li>
 *   <li>To evict, if M holds more than its share or S is empty, M's oldest entry is examined: one
 *       with a non-zero counter is moved to M's new end with its counter decremented (CLOCK with
 *       a two-bit counter); the first with zero is the victim.</li>
 *   <li>Otherwise S's oldest entries are examined: one hit at least twice moves to M's new end
 *       with its counter reset; the first hit fewer times is the victim, and its page enters G.
 *       If S empties, M is examined as above.</li>
 * </ul>
 * Most pages of a skewed trace are requested once in a long while; S lets them go after one
 * short stay (quick demotion) while M keeps the hot ones, so a scan cannot flush the hot set.
 *
 * <p>The hit path bumps the counter in the entry's recency word: a load and a store,
 * no branch, no list node moves. The queues ({@link SetQueues}: S and M hold entry numbers, G holds page
 * fingerprints) change only on the miss path and in shootdowns ({@link #invalidated}, which takes
 * the entry out of S or M and leaves G alone), under the TLB's lock. Invariant: S and M of a set
 * together hold exactly its valid entries (the victim until it is refilled), each once. A page's
 * fingerprint in G is its number with the context in the top bits: exact for the first 8,192
 * contexts (page numbers are below 2^51), so a later context may at worst see a neighbour's page
 * in G and start in M, which changes a placement, never a translation.
 */
final class S3FifoReplacement extends QueuedReplacement {
    /** Hits while in S that earn a place in M (libCacheSim's move-to-main threshold). */
    private static final int MOVE_TO_MAIN = 2;
    private static final int MAX_FREQUENCY = 3;

    private final SetQueues small;
    private final SetQueues main;
    private final SetQueues ghost;
    private final int mainShare;

    S3FifoReplacement(TranslationTable table, TlbConfig config) {
        super(table, config);
        int smallShare = Math.max(1, ways / 10);
        this.mainShare = ways - smallShare;
        this.small = new SetQueues(config.sets(), ways);
        this.main = new SetQueues(config.sets(), ways);
        this.ghost = new SetQueues(config.sets(), Math.max(1, ways * 9 / 10));
    }

    /** One load and one store, no branch: the counter goes up by one unless it is already 3. */
    @Override
    public void touched(int entry) {
        countHit(entry, MAX_FREQUENCY);
    }

    @Override
    void join(int set, int entry) {
        long fingerprint = fingerprint(entry);
        int remembered = ghost.indexOf(set, fingerprint);
        if (remembered >= 0) {
            ghost.removeAt(set, remembered);
            main.addNewest(set, entry);
        } else {
            small.addNewest(set, entry);
        }
    }

    @Override
    public int victim(int set) {
        for (;;) {
            if (main.size(set) > mainShare || small.size(set) == 0) {
                int entry = (int) main.get(set, 0);
                int at = recencyIndex(entry);
                long frequency = entries[at];
                if (frequency == 0) {
                    return entry;
                }
                entries[at] = frequency - 1;
                main.removeOldest(set);
                main.addNewest(set, entry);
                continue;
            }
            while (small.size(set) > 0) {
                int entry = (int) small.get(set, 0);
                int at = recencyIndex(entry);
                if (entries[at] < MOVE_TO_MAIN) {
                    ghost.addNewest(set, fingerprint(entry));
                    return entry;
                }
                entries[at] = 0;
                small.removeOldest(set);
                main.addNewest(set, entry);
            }
        }
    }

    /** Out of S or M, wherever it is; G is left alone. */
    @Override
    void leave(int set, int entry) {
        int position = small.indexOf(set, entry);
        if (position >= 0) {
            small.removeAt(set, position);
            return;
        }
        position = main.indexOf(set, entry);
        if (position >= 0) {
            main.removeAt(set, position);
        }
    }

    private long fingerprint(int entry) {
        int base = entry << TranslationTable.ENTRY_SHIFT;
        long page = entries[base + TranslationTable.PAGE_OFFSET];
        long context = entries[base + TranslationTable.TAG_OFFSET] >>> 1;
        return page ^ (context << 51);
    }
}
