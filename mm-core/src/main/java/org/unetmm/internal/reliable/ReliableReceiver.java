package org.unetmm.internal.reliable;

import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.internal.Arrival;
import org.unetmm.internal.ChannelServices;
import org.unetmm.internal.ChannelState;
import org.unetmm.internal.EndpointState;
import org.unetmm.internal.FrameChecksum;
import org.unetmm.internal.FreeGuard;
import org.unetmm.internal.ReceiveDescriptor;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.Placement;

/**
 * The receiving half of a reliable channel (see {@link ReliableProtocol}, Sequence and delivery):
 * the receive window of reassemblies ({@link Incoming}, one posted buffer each, taken in id
 * order), the admission of a DATA fragment before anything is written, its placement by offset,
 * its verification, and the in-order delivery of complete messages. What it owes the peer for
 * each frame it records in {@link AckDebt}; it never transmits.
 */
final class ReliableReceiver {
    private final ReliableProtocol p;
    private final ChannelServices services;
    private final ChannelState channel;
    private final EndpointState endpoint;
    private final Workspace ws;
    private final ReliableCounters counters;

    /** Next message id expected: the cumulative acknowledgement this end sends. */
    private long rxNext;
    /** One past the highest message id any fragment was admitted for (SACK blocks run up to it). */
    private long rxHigh;
    private final Incoming[] incoming;
    private final int rxMask;
    private final int rxWindow;
    /** The slot the fragment being placed goes to, between admit and placed. */
    private Incoming rx;
    /** Where the fragment being placed goes: true = the overflow scratch, then its head is copied in. */
    private boolean rxToOverflow;
    private int rxInside;
    /** A complete message waits for room on the completion queue. */
    private boolean deliveryBlocked;

    ReliableReceiver(ReliableProtocol p) {
        this.p = p;
        this.services = p.services;
        this.channel = p.channel;
        this.endpoint = p.endpoint;
        this.ws = p.ws;
        this.counters = p.counters;
        this.rxWindow = Math.max(1, Math.min(p.options.window(),
                Math.min(ReliableProtocol.MAX_SACK_BLOCKS, p.mtu / ControlFrames.SACK_BYTES)));
        int rxSize = Integer.highestOneBit(Math.max(1, rxWindow - 1)) << 1;
        this.incoming = new Incoming[rxSize];
        for (int i = 0; i < rxSize; i++) {
            incoming[i] = new Incoming();
        }
        this.rxMask = rxSize - 1;
    }

    Incoming in(long id) {
        return incoming[(int) id & rxMask];
    }

    /** Next message id expected: the cumulative acknowledgement this end sends. */
    long expected() {
        return rxNext;
    }

    /** One past the highest message id any fragment was admitted for. */
    long high() {
        return rxHigh;
    }

    /** Messages the receive window holds. */
    int window() {
        return rxWindow;
    }

    /** Whether a complete message waits for room on the completion queue. */
    boolean deliveryBlocked() {
        return deliveryBlocked;
    }

    /** Makes the channel's reassembly fields describe slot {@code r}, for the NIC's copy-in and completion. */
    private void bind(Incoming r) {
        Arrival a = channel.arrival;
        a.active = true;
        a.messageId = r.id;
        a.buffer = r.buffer;
        a.address = r.address;
        a.offset = r.offset;
        a.capacity = r.capacity;
        a.cookie = r.cookie;
        a.length = Math.max(0, r.length);
        a.truncated = r.truncated;
        a.received = r.received;
    }

    private void unbind() {
        channel.arrival.end();
    }

    /** A DATA frame from the copy-in path (loopback): admitted, its payload pulled into place, then counted. */
    void deliver(FrameHeader h, PayloadSource payload, long now) {
        if (!admit(h, now)) {
            return;
        }
        try {
            if (rxToOverflow) {
                payload.copyTo(0, ws.overflow.buffer(), 0, h.fragmentLength);
            } else {
                bind(rx);
                services.pages.copyIn(endpoint.context, channel.arrival, payload, h.fragmentOffset, h.fragmentLength);
                unbind();
            }
        } catch (RuntimeException e) {
            pinFailedOnReceive(e);
            return;
        }
        placed(h, now);
    }

    /** A DATA frame on the placement path (udp): where its payload goes, or false to discard it. */
    boolean claim(FrameHeader h, Placement placement, long now) {
        if (!admit(h, now)) {
            return false;
        }
        if (rxToOverflow) {
            ControlFrames.fill(placement, ws.overflow, 0, h.fragmentLength);
            return true;
        }
        Incoming r = rx;
        int index = r.offset + h.fragmentOffset;
        int length = h.fragmentLength;
        try {
            services.pages.translate(endpoint.context, r.buffer, r.address + index, length);
        } catch (RuntimeException e) {
            pinFailedOnReceive(e);
            return false;
        }
        placement.buffer = r.buffer;
        placement.index = index;
        placement.address = r.address + index;
        placement.length = length;
        return true;
    }

    /**
     * Decides whether a DATA fragment is taken, before anything is written: inside the receive
     * window, not a duplicate, consistent with what is known of its message, a posted buffer for
     * it (and for every message before it). Sets where its payload goes ({@link #rx},
     * {@link #rxToOverflow}).
     */
    private boolean admit(FrameHeader h, long now) {
        long id = h.messageId;
        if (id < rxNext) {
            counters.duplicates++;
            services.drops.drop(DropReason.DUPLICATE);
            p.debt.ackNow();
            return false;
        }
        if (id >= rxNext + rxWindow) {
            counters.outOfOrder++;
            services.drops.drop(DropReason.OUT_OF_ORDER);
            p.debt.ackOutOfOrder();
            return false;
        }
        Incoming r = in(id);
        if (!r.bound && !bindUpTo(id)) {
            return false;
        }
        if (r.complete) {
            counters.duplicates++;
            services.drops.drop(DropReason.DUPLICATE);
            p.debt.ackNow();
            if (deliveryBlocked) {
                p.debt.notReady(rxNext);
            }
            return false;
        }
        if (h.messageLength != r.length) {
            if (r.verified > 0) {
                p.malformed();
                return false;
            }
            r.length = h.messageLength; // nothing verified yet: a first guess from a bad frame is replaced
            r.truncated = h.messageLength > r.capacity;
        }
        int n = r.length;
        int offset = h.fragmentOffset;
        int length = h.fragmentLength;
        boolean last = offset + length == n;
        if (!last || offset > 0) {
            int unit = r.unit != 0 ? r.unit : last ? 0 : length;
            if (unit == 0) {
                counters.outOfOrder++; // the last fragment, before the fragment size is known: it comes again
                services.drops.drop(DropReason.OUT_OF_ORDER);
                return false;
            }
            if (length == 0 || offset % unit != 0 || (last ? length > unit : length != unit)) {
                p.malformed();
                return false;
            }
            if (r.unit != 0 && r.fragments.contains(offset / unit)) {
                counters.duplicates++;
                services.drops.drop(DropReason.DUPLICATE);
                p.debt.ackNow();
                return false;
            }
        }
        int inside = Math.max(0, Math.min(length, r.capacity - offset));
        rx = r;
        rxToOverflow = inside < length;
        rxInside = inside;
        if (rxToOverflow) {
            ws.overflow(length);
        }
        return true;
    }

    /**
     * Takes posted buffers, in id order, for every message of the window up to {@code id} that has
     * none. False (dropped, and a receiver-not-ready NACK due) when the free queue runs out or the
     * completion queue has no room.
     */
    private boolean bindUpTo(long id) {
        for (long m = rxNext; m <= id; m++) {
            Incoming r = in(m);
            if (r.bound) {
                continue;
            }
            if (!endpoint.sink.canComplete()) {
                services.drops.drop(DropReason.COMPLETION_QUEUE_FULL);
                p.debt.notReady(m);
                return false;
            }
            ReceiveDescriptor d = endpoint.freeQueue.peek();
            if (d == null) {
                services.drops.drop(DropReason.NO_BUFFER);
                p.debt.notReady(m);
                return false;
            }
            r.take(d, m);
            d.buffer = null;
            endpoint.freeQueue.release();
        }
        return true;
    }

    /** The fragment admitted last is in place: verify it, then count it, acknowledge it, maybe deliver messages. */
    void placed(FrameHeader h, long now) {
        Incoming r = rx;
        rx = null;
        int offset = h.fragmentOffset;
        int length = h.fragmentLength;
        if ((h.flags & FrameHeader.FLAG_CHECKSUM) != 0) {
            FrameChecksum crc = ws.receiveChecksum.start(h);
            if (length > 0) {
                if (rxToOverflow) {
                    crc.update(ws.overflow.buffer(), 0, length);
                } else {
                    crc.update(r.buffer, r.offset + offset, length);
                }
            }
            if (crc.value() != h.checksum) {
                counters.corrupted++;
                services.drops.drop(DropReason.CORRUPT);
                return;
            }
        }
        p.liveness.heard(now);
        if ((h.flags & FrameHeader.FLAG_ACK) != 0) {
            p.sender.onPiggybackAck(h.ack, now);
            if (p.isDone() || !r.bound) {
                return; // a completion handler closed the channel or its endpoint
            }
        }
        if (rxToOverflow && rxInside > 0) {
            try {
                bind(r);
                services.pages.copyIn(endpoint.context, channel.arrival, ws.overflow.length(length), offset, rxInside);
                unbind();
            } catch (RuntimeException e) {
                rx = r;
                pinFailedOnReceive(e);
                return;
            }
        }
        int n = r.length;
        if (offset + length != n || offset > 0) {
            if (r.unit == 0) {
                r.unit = length;
                r.fragments.reset((int) ((n + (long) length - 1) / length));
            }
            r.fragments.add(offset / r.unit);
        }
        r.verified++;
        r.received += length;
        if (r.id >= rxHigh) {
            rxHigh = r.id + 1;
        }
        p.debt.accepted(now);
        if (r.received == n) {
            r.complete = true;
            if (r.id == rxNext) {
                deliverInOrder();
            }
        }
    }

    /** Completes the receives of complete messages at the head of the window, in id order, while they can be reported. */
    int deliverInOrder() {
        int done = 0;
        boolean wasBlocked = deliveryBlocked;
        deliveryBlocked = false;
        while (!p.isDone()) {
            Incoming r = in(rxNext);
            if (!r.bound || !r.complete || r.id != rxNext) {
                break;
            }
            if (!endpoint.sink.canComplete()) {
                deliveryBlocked = true;
                if (!wasBlocked) {
                    p.debt.notReady(rxNext); // once; again whenever the sender retransmits meanwhile
                }
                break;
            }
            rxNext++;
            done++;
            bind(r);
            r.release();
            services.completions.messageArrived(channel); // the whole message is in place: completes the receive
        }
        if (rxHigh < rxNext) {
            rxHigh = rxNext;
        }
        return done;
    }

    private void pinFailedOnReceive(RuntimeException e) {
        // the posted buffer could not be pinned: it completes PIN_FAILED; the message is not
        // acknowledged (any SACK of it is reneged), so it is sent again into the next posted buffer
        Incoming r = rx;
        rx = null;
        bind(r);
        r.release();
        services.completions.completeReceive(channel, CompletionStatus.PIN_FAILED, e.getMessage());
    }

    void onPeerClose(long id) {
        if (id < rxNext) {
            p.debt.ackNow();
            return;
        }
        if (id > rxNext || in(rxNext).bound) {
            counters.outOfOrder++;
            services.drops.drop(DropReason.OUT_OF_ORDER);
            p.debt.ackOutOfOrder();
            return;
        }
        rxNext = id + 1;
        rxHigh = rxNext;
        p.debt.ackClose();
    }

    /** The channel is closing for good: every posted buffer the receive window holds completes with {@code status}. */
    void abandon(CompletionStatus status, String detail) {
        for (long id = rxNext; id < rxNext + incoming.length; id++) {
            Incoming r = in(id);
            if (r.bound) {
                bind(r);
                r.release();
                services.completions.completeReceive(channel, status, detail == null
                        ? "channel closed while a message was arriving" : detail);
            }
        }
    }

    /** Refuses freeing memory of a posted buffer the receive window holds. */
    void refuseFreeInFlight(long address, long length) {
        for (Incoming r : incoming) {
            if (r.bound) {
                FreeGuard.refuseIfOverlaps(address, length, r.address + r.offset, r.capacity, "a message arriving now");
            }
        }
    }
}
