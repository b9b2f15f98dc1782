package org.unetmm.internal.reliable;

import org.unetmm.internal.RttEstimator;

/**
 * What the acknowledgements say about the sender's transmissions (see {@link ReliableProtocol},
 * Acknowledgements and the sender, and Timers): every data fragment sent takes the next
 * transmission number, and a ring maps the numbers loss detection has not examined yet to
 * (message, fragment). From each ack frame it takes the round-trip sample (Karn's rule, RFC 8985's
 * min_RTT) and judges losses by transmission number across the whole window (RFC 9002 §6.1.1, as
 * QUIC does) after every stand-alone ACK.
 */
final class LossDetector {
    /** Largest ring of transmissions awaiting loss detection (entries of 12 bytes). */
    private static final int MAX_TX_RING = 1 << 15;

    private final ReliableSender sender;
    private final RttEstimator rtt;
    private final ReliableCounters counters;
    /** Transmissions of data fragments so far: the order loss detection reasons in. */
    private long txCount;
    /** The latest transmission number any acknowledgement has covered. */
    private long highestAcked;
    /** Transmission number to (message, fragment), for the transmissions loss detection has not examined. */
    private long[] txRingId = new long[1024];
    private int[] txRingFragment = new int[1024];
    /** The next transmission number loss detection examines. */
    private long lossScan = 1;
    /** The send time of the fragment whose acknowledgement gives this ack frame's sample; -1 = none. */
    private long sampleAt = -1;
    /** The smallest round-trip sample yet (RFC 8985's min_RTT); MAX_VALUE before the first. */
    private long minRtt = Long.MAX_VALUE;
    private long highestBefore;

    LossDetector(ReliableSender sender, RttEstimator rtt, ReliableCounters counters) {
        this.sender = sender;
        this.rtt = rtt;
        this.counters = counters;
    }

    /** Fragment {@code fragment} of message {@code id} goes out: returns its transmission number. */
    long record(long id, int fragment) {
        ++txCount;
        recordTransmission(id, fragment);
        return txCount;
    }

    /**
     * Fragment {@code f} of {@code o}, newly acknowledged at {@code now}: feeds {@link #highestAcked}
     * and the candidate round-trip sample (the latest-sent fragment sent once).
     */
    void acknowledged(Outgoing o, int f, long now) {
        boolean resent = o.resent.contains(f);
        if (resent && (o.ambiguous.contains(f) || minRtt == Long.MAX_VALUE || now - o.txLast[f] < minRtt)) {
            // which of its sends arrived is unknown: taking the latest would declare everything sent
            // since the earlier one lost, and the retransmissions would cascade. A fragment resent
            // because later ones were acknowledged past it was lost (the path keeps order within the
            // reordering threshold), so its acknowledgement answers the resend, unless it came
            // sooner after the resend than any round trip takes (RFC 8985 §6.2)
            return;
        }
        long seq = o.txSeq[f];
        if (seq > highestAcked) {
            highestAcked = seq;
            sampleAt = resent ? -1 : o.txTime[f]; // Karn: never a sample from a resent fragment
        }
    }

    /** An ack frame begins: no sample yet. */
    void beginAckFrame() {
        sampleAt = -1;
        highestBefore = highestAcked;
    }

    /** After an ack frame: take its round-trip sample, if it has one, and detect losses if it acknowledged anything new. */
    void endAckFrame(long now, long coveredEnd, boolean news) {
        if (highestAcked > highestBefore && sampleAt >= 0) {
            long sample = now - sampleAt;
            rtt.sample(sample);
            counters.rttSamples++;
            minRtt = Math.min(minRtt, sample);
        }
        if (news) {
            detectLosses(coveredEnd);
        }
    }

    /** Moves the loss scan past transmissions that are acknowledged, so piggybacked traffic keeps the ring short. */
    void skipAcknowledged() {
        for (; lossScan <= txCount; lossScan++) {
            int at = (int) lossScan & (txRingId.length - 1);
            long id = txRingId[at];
            if (id >= sender.peerAck()) {
                Outgoing o = sender.slot(id);
                int f = txRingFragment[at];
                if (o.txSeq[f] == lossScan && !o.acked.contains(f)) {
                    return;
                }
            }
        }
    }

    /**
     * Loss detection across the window (RFC 9002 §6.1.1, by transmission number), run on every
     * stand-alone ACK (a piggybacked ack carries no SACK blocks, so it cannot say what is missing):
     * a fragment sent and not acknowledged is lost when a fragment sent {@link ReliableProtocol#REORDER_THRESHOLD}
     * transmissions later has been acknowledged. The transmissions are examined once each, in
     * order, from the ring {@link #txRingId}/{@link #txRingFragment}; one superseded by a later
     * send of the same fragment is skipped (that send is examined in its turn). A fragment past
     * the bitmap of its message's SACK block (messages of more than 65 fragments) cannot be
     * reported, so it is not judged here: the timer resends it.
     */
    void detectLosses(long coveredEnd) {
        long threshold = highestAcked - ReliableProtocol.REORDER_THRESHOLD;
        for (; lossScan <= threshold && lossScan <= txCount; lossScan++) {
            int at = (int) lossScan & (txRingId.length - 1);
            long id = txRingId[at];
            if (id < sender.peerAck()) {
                continue;
            }
            Outgoing o = sender.slot(id);
            int f = txRingFragment[at];
            if (o.txSeq[f] != lossScan || o.acked.contains(f)) {
                continue;
            }
            if (id < coveredEnd && f > o.acked.firstMissing() + 64) {
                continue;
            }
            sender.markLost(o, f, false);
        }
    }

    /** Records transmission {@link #txCount} in the ring, growing it when more transmissions are unexamined than it holds. */
    private void recordTransmission(long id, int fragment) {
        if (lossScan < txCount - txRingId.length + 1) {
            if (txRingId.length < MAX_TX_RING) {
                growRing();
            } else {
                lossScan = txCount - txRingId.length + 1; // the oldest are left to the timer
            }
        }
        int at = (int) txCount & (txRingId.length - 1);
        txRingId[at] = id;
        txRingFragment[at] = fragment;
    }

    private void growRing() {
        long[] ids = new long[txRingId.length * 2];
        int[] fragments = new int[ids.length];
        for (long seq = Math.max(lossScan, 1); seq < txCount; seq++) {
            int from = (int) seq & (txRingId.length - 1);
            int to = (int) seq & (ids.length - 1);
            ids[to] = txRingId[from];
            fragments[to] = txRingFragment[from];
        }
        txRingId = ids;
        txRingFragment = fragments;
    }
}
