package org.unetmm;

import java.time.Duration;

/**
 * A snapshot of one reliable channel's protocol counters ({@link Channel#reliableStats()}).
 *
 * @param messagesAcknowledged sends completed by the peer's acknowledgement
 * @param fragmentsSent        data fragments handed to the wire, first transmissions and retransmissions
 * @param retransmissions      data fragments sent again (deemed lost, a timeout, the receiver not ready)
 * @param timeouts             retransmission timer expiries (and keep-alive probes after the first)
 * @param fragmentsLost        fragments deemed lost: by selective acknowledgements of later fragments (fast
 *                             retransmit), a timeout, or a receiver-not-ready NACK; each is sent again once
 * @param acksSent             stand-alone acknowledgement frames (acks riding on data are not counted)
 * @param acksReceived         stand-alone acknowledgement frames received
 * @param notReadySent         receiver-not-ready NACKs sent (no posted buffer or a full completion queue)
 * @param notReadyReceived     receiver-not-ready NACKs received (the sender backed off)
 * @param duplicates           data frames dropped because they were already received
 * @param outOfOrder           data frames of a later message dropped (delivery is in order)
 * @param corrupted            frames dropped because their checksum failed
 * @param probes               keep-alive probes sent
 * @param rttSamples           round-trip samples taken (one per acknowledgement that newly covers a fragment sent once)
 * @param srtt                 smoothed round-trip time (zero before the first sample)
 * @param rttvar               round-trip variation
 * @param rto                  the current retransmission timeout
 * @param inFlight             messages in the send window now
 * @param ackWait              how long, in all, the sender could do nothing but wait for acknowledgements: a send
 *                             waited for the full window, all of it had been sent and nothing was to be resent
 */
public record ReliableStats(long messagesAcknowledged, long fragmentsSent, long retransmissions, long timeouts,
                            long fragmentsLost, long acksSent, long acksReceived, long notReadySent, long notReadyReceived,
                            long duplicates, long outOfOrder, long corrupted, long probes, long rttSamples, Duration srtt,
                            Duration rttvar, Duration rto, int inFlight, Duration ackWait) {
}
