package org.unetmm.tlb.internal;

import org.unetmm.tlb.TlbConfig;

/**
 * SIEVE (Zhang, Yang, Yue, Vigfusson, Rashmi, "SIEVE is Simpler than LRU: an Efficient
 * Turn-Key Eviction Algorithm for Web Caches", NSDI 2024), per set.
 *
 * <p>Each set keeps its entries in a queue in the order they were filled, oldest first, and a
 * hand that points into it; each entry has a visited bit, clear when the entry is filled and set
 * by a hit. To find a victim the hand walks from where it rests toward the newer entries,
 * wrapping from the newest to the oldest, clearing the visited bits it passes, and stops at the
 * first entry whose bit is already clear: that entry is evicted and the hand rests on the entry
 * that was newer than it. The new translation joins the queue as its newest entry.
 *
 * <p>Unlike CLOCK the new entry does not take the victim's place in the sweep: it goes to the
 * new end, behind the hand, so a page hit once survives a full sweep while one-hit pages
 * filled after it are sieved out first ("lazy promotion, quick demotion"). On zipf traces this
 * closes much of the gap between LRU and OPT.
 *
 * <p>The hit sets the entry's visited bit, the recency word: one store, as in CLOCK, no list
 * node moves. The queue ({@link SetQueues}) and the hands change only on the miss path and in a
 * shootdown ({@link #invalidated}), both under the TLB's lock. Invariant: the queue of a set
 * holds exactly the set's valid entries (the victim until it is refilled), each once, in fill
 * order; the hand is a position in it, 0 (the oldest) when it has nowhere else to be.
 */
final class SieveReplacement extends QueuedReplacement {
    private final SetQueues order;
    private final int[] hands;

    SieveReplacement(TranslationTable table, TlbConfig config) {
        super(table, config);
        this.order = new SetQueues(config.sets(), ways);
        this.hands = new int[config.sets()];
    }

    @Override
    public void touched(int entry) {
        entries[recencyIndex(entry)] = 1;
    }

    @Override
    void join(int set, int entry) {
        order.addNewest(set, entry);
    }

    @Override
    public int victim(int set) {
        int n = order.size(set);
        int hand = hands[set];
        for (;;) {
            int entry = (int) order.get(set, hand);
            int at = recencyIndex(entry);
            if (entries[at] == 0) {
                hands[set] = hand;
                return entry;
            }
            entries[at] = 0;
            hand = hand + 1 == n ? 0 : hand + 1;
        }
    }

    /** The hand keeps pointing at the same entry, or at the next newer if it pointed at this one. */
    @Override
    void leave(int set, int entry) {
        int position = order.indexOf(set, entry);
        if (position < 0) {
            return;
        }
        order.removeAt(set, position);
        int hand = hands[set];
        if (position < hand) {
            hand--;
        }
        hands[set] = hand >= order.size(set) ? 0 : hand;
    }
}
