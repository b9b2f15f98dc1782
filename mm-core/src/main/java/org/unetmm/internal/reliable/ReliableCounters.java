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
    /** DATA frames the receive path left to the wire until the acknowledgement owed had gone out (AckDebt). */
    long heldForAck;
    /** Time sends waited for a slot of the full window, finished waits only (ReliableSender adds the one under way). */
    long windowFullNanos;

    ReliableStats stats(RttEstimator rtt, int inFlight, long windowFull) {
        return new ReliableStats(messagesAcknowledged, fragmentsSent, retransmissions, timeouts, fragmentsLost, acksSent,
                acksReceived, notReadySent, notReadyReceived, duplicates, outOfOrder, corrupted, probesSent,
                rttSamples, Duration.ofNanos(rtt.srtt()), Duration.ofNanos(rtt.rttvar()), Duration.ofNanos(rtt.rto()),
                inFlight, heldForAck, Duration.ofNanos(windowFull));
    }
}
