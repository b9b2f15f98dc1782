package org.unetmm.tlb.internal;

import org.unetmm.tlb.TlbConfig;

/**
 * Exact LRU: every hit and fill stamps the entry with the next value of a 64-bit counter (which
 * cannot wrap in the life of a process); the victim is the smallest stamp of the set. The scan is
 * on the miss path, which already traps; the hit path is one store.
 */
final class LruReplacement extends Replacement {
    private long clock;

    LruReplacement(TranslationTable table, TlbConfig config) {
        super(table, config);
    }

    @Override
    public void touched(int entry) {
        entries[recencyIndex(entry)] = ++clock;
    }

    @Override
    public void filled(int entry) {
        entries[recencyIndex(entry)] = ++clock;
    }

    @Override
    public int victim(int set) {
        int first = set * ways;
        int victim = first;
        long oldest = entries[recencyIndex(first)];
        for (int entry = first + 1, end = first + ways; entry < end; entry++) {
            long stamp = entries[recencyIndex(entry)];
            if (stamp < oldest) {
                oldest = stamp;
                victim = entry;
            }
        }
        return victim;
    }
}
