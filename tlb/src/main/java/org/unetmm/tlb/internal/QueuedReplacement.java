package org.unetmm.tlb.internal;

import org.unetmm.tlb.TlbConfig;

/**
 * A policy that keeps each set's valid entries in queues ({@link SetQueues}) beside their
 * recency words: a fill takes the entry out of wherever it was (the victim still is) and lets it
 * join afresh with a cleared word; a shootdown only takes it out. SIEVE and S3-FIFO.
 */
abstract class QueuedReplacement extends Replacement {
    QueuedReplacement(TranslationTable table, TlbConfig config) {
        super(table, config);
    }

    /** Takes the entry out of its set's queues, if it is in one. */
    abstract void leave(int set, int entry);

    /** Puts the just-filled entry into its set's queues. */
    abstract void join(int set, int entry);

    @Override
    public final void filled(int entry) {
        int set = entry / ways;
        leave(set, entry);
        join(set, entry);
        entries[recencyIndex(entry)] = 0;
    }

    @Override
    public final void invalidated(int entry) {
        leave(entry / ways, entry);
    }
}
