package org.unetmm.internal.reliable;

import org.unetmm.ChannelConfig;
import org.unetmm.spi.FrameHeader;

/**
 * What this end owes its peer: an acknowledgement of what was accepted (due within
 * {@link ChannelConfig#ackDelay()}, at once for every second fragment, a duplicate, an
 * out-of-order frame or a probe), a receiver-not-ready NACK, and after the peer's CLOSE its
 * acknowledgement. Nothing transmits from the receive path: {@link #flush} sends what is due from
 * the channel's progress, and a DATA frame's piggybacked ack pays the debt when it says all.
 */
final class AckDebt {
    private final ReliableProtocol p;
    private final ReliableCounters counters;
    private final long ackDelay;

    private boolean ackPending;
    private boolean ackNow;
    private long ackDue;
    private int ackFlags;
    private int unacknowledged;
    private boolean notReadyDue;
    private long notReadyId;
    private boolean closeAfterAck;

    AckDebt(ReliableProtocol p) {
        this.p = p;
        this.counters = p.counters;
        this.ackDelay = p.options.ackDelay().toNanos();
    }

    /** An acknowledgement is due at once (a duplicate, a probe, a frame the window cannot take). */
    void ackNow() {
        ackNow = true;
    }

    /** An acknowledgement with {@link FrameHeader#FLAG_OUT_OF_ORDER} is due at once: the frame was beyond the window. */
    void ackOutOfOrder() {
        ackNow = true;
        ackFlags |= FrameHeader.FLAG_OUT_OF_ORDER;
    }

    /** The peer's CLOSE was taken: acknowledge it at once, then the channel closes. */
    void ackClose() {
        ackNow = true;
        closeAfterAck = true;
    }

    /** A fragment was accepted: an acknowledgement is due within the ack delay, or at once for every second one. */
    void accepted(long now) {
        unacknowledged++;
        ackPending = true;
        if (unacknowledged >= 2) {
            ackNow = true;
        } else if (unacknowledged == 1) {
            ackDue = now + ackDelay;
        }
    }

    /** Message {@code id} could not be taken (no posted buffer, no completion room): a receiver-not-ready NACK is due. */
    void notReady(long id) {
        notReadyDue = true;
        notReadyId = id;
    }

    /** Cumulative ack just rode on a DATA frame: a pending stand-alone ack is not needed unless it says more. */
    void acknowledgedByPiggyback() {
        ReliableReceiver receiver = p.receiver;
        boolean saysMore = ackFlags != 0 || receiver.high() > receiver.expected() || closeAfterAck
                || receiver.deliveryBlocked();
        if (!saysMore) {
            ackPending = false;
            ackNow = false;
            unacknowledged = 0;
        }
    }

    /** Sends the NACK and the acknowledgement that are due. */
    int flush(long now) {
        int work = 0;
        if (notReadyDue) {
            FrameHeader h = p.frames.control(FrameHeader.TYPE_NACK, notReadyId, 0);
            if (p.frames.transmit(h, 0)) {
                notReadyDue = false;
                counters.notReadySent++;
                work++;
            }
        }
        if (ackNow || (ackPending && now - ackDue >= 0)) {
            work += sendAck(0);
        }
        return work;
    }

    /** Sends an ACK with the SACK blocks of the receive window ({@code extraFlags}: {@link FrameHeader#FLAG_PROBE}); 0 = back-pressured. */
    int sendAck(int extraFlags) {
        ControlFrames frames = p.frames;
        int sack = frames.sackBlocks();
        FrameHeader h = frames.control(FrameHeader.TYPE_ACK, p.receiver.expected(), sack);
        h.flags |= ackFlags | extraFlags;
        if (!frames.transmit(h, sack)) {
            return 0;
        }
        if ((extraFlags & FrameHeader.FLAG_PROBE) != 0) {
            counters.probesSent++;
        } else {
            counters.acksSent++;
        }
        ackPending = false;
        ackNow = false;
        ackFlags = 0;
        unacknowledged = 0;
        if (closeAfterAck) {
            closeAfterAck = false;
            p.closedByPeer();
        }
        return 1;
    }
}
