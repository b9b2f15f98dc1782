package org.unetmm.internal.reliable;

import org.unetmm.internal.FragmentSet;
import org.unetmm.internal.SendDescriptor;

/** A send in the window: a copy of its descriptor and its scoreboard. */
final class Outgoing {
    final SendDescriptor d;
    /** Fragments the peer has (selectively or cumulatively acknowledged). */
    final FragmentSet acked = new FragmentSet();
    /** Fragments deemed lost and not yet sent again. */
    final FragmentSet lost = new FragmentSet();
    /** Fragments sent more than once: their acknowledgements are no round-trip samples (Karn). */
    final FragmentSet resent = new FragmentSet();
    /**
     * Fragments sent again without evidence that the earlier send was lost (a timeout, the
     * receiver not ready, a reneged SACK): which send an acknowledgement of them answers is unknown.
     */
    final FragmentSet ambiguous = new FragmentSet();
    /** Per fragment: the channel's transmission number of its latest send. */
    long[] txSeq = new long[1];
    /** Per fragment: when it was first sent, and when last. */
    long[] txTime = new long[1];
    long[] txLast = new long[1];
    long id;
    int fragments;
    /** Fragments [0, sentHigh) have been transmitted at least once. */
    int sentHigh;

    Outgoing(int maxScatter) {
        d = new SendDescriptor(maxScatter);
    }

    void reset(int fragmentCount) {
        fragments = fragmentCount;
        acked.reset(fragmentCount);
        lost.reset(fragmentCount);
        resent.reset(fragmentCount);
        ambiguous.reset(fragmentCount);
        if (txSeq.length < fragmentCount) {
            int size = Math.max(fragmentCount, 2 * txSeq.length);
            txSeq = new long[size];
            txTime = new long[size];
            txLast = new long[size];
        }
        sentHigh = 0;
    }
}
