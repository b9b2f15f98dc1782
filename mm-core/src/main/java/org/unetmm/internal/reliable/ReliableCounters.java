package org.unetmm.internal.reliable;

import java.time.Duration;
import org.unetmm.ReliableStats;
import org.unetmm.internal.RttEstimator;

/**
 * The counters of one reliable channel, written by every part of its protocol on the engine
 * thread and read, as {@link ReliableStats}, under the engine lock.
 */
final class ReliableCounters {
    long messagesAcknowledged;
    long fragmentsSent;
    long retransmissions;
    long timeouts;
    long fragmentsLost;
    long acksSent;
    long acksReceived;
    long notReadySent;
    long notReadyReceived;
    long duplicates;
    long outOfOrder;
    long corrupted;
    long probesSent;
    long rttSamples;
    /** Time the sender could only wait for acknowledgements, finished waits; and whether it does now, since when. */
    private long ackWaitNanos;
    private boolean ackWaiting;
    private long ackWaitSince;

    /** Whether, at {@code now}, the sender can do nothing but wait for acknowledgements (its window full and sent). */
    void ackWait(boolean waiting, long now) {
        if (waiting != ackWaiting) {
            ackWaiting = waiting;
            if (waiting) {
                ackWaitSince = now;
            } else {
                ackWaitNanos += Math.max(0, now - ackWaitSince);
            }
        }
    }

    ReliableStats stats(RttEstimator rtt, int inFlight, long now) {
        long ackWait = ackWaitNanos + (ackWaiting ? Math.max(0, now - ackWaitSince) : 0);
        return new ReliableStats(messagesAcknowledged, fragmentsSent, retransmissions, timeouts, fragmentsLost, acksSent,
                acksReceived, notReadySent, notReadyReceived, duplicates, outOfOrder, corrupted, probesSent,
                rttSamples, Duration.ofNanos(rtt.srtt()), Duration.ofNanos(rtt.rttvar()), Duration.ofNanos(rtt.rto()),
                inFlight, Duration.ofNanos(ackWait));
    }
}
