package org.unetmm.tlb.internal;

import org.unetmm.tlb.TlbConfig;

/**
 * CLOCK (second chance): a reference bit per entry, set by a hit and by the fill, and a hand per
 * set. The victim is found by sweeping from the hand, clearing set bits, to the first entry whose
 * bit is clear; the hand then rests just past it, where the next sweep starts. If every bit is
 * set the sweep clears them all and comes back to where it began, so CLOCK degrades to FIFO,
 * never loops twice.
 */
final class ClockReplacement extends Replacement {
    private final int[] hands;

    ClockReplacement(TranslationTable table, TlbConfig config) {
        super(table, config);
        this.hands = new int[config.sets()];
    }

    @Override
    public void touched(int entry) {
        entries[recencyIndex(entry)] = 1;
    }

    @Override
    public void filled(int entry) {
        entries[recencyIndex(entry)] = 1;
    }

    @Override
    public int victim(int set) {
        int first = set * ways;
        int hand = hands[set];
        for (;;) {
            int entry = first + hand;
            hand = hand + 1 == ways ? 0 : hand + 1;
            int at = recencyIndex(entry);
            if (entries[at] == 0) {
                hands[set] = hand;
                return entry;
            }
            entries[at] = 0;
        }
    }
}
