package org.unetmm.internal;

import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.ReliableStats;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.Placement;

/**
 * U-Net's channel: no acknowledgements, no retransmission. A send completes when the wire no
 * longer needs its bytes. Messages arrive one at a time per channel, each into the oldest posted
 * buffer, fragments in order by offset: the first fragment takes a buffer (none posted, or no room
 * on the completion queue: dropped and counted), the others must continue the message in progress
 * (else {@link DropReason#ORPHAN_FRAGMENT}), and a message that stops arriving times out
 * ({@link Reassembly}). Bytes past the posted buffer's end are discarded, and the receive
 * completes {@link CompletionStatus#TRUNCATED}. Engine lock held for every method.
 */
public final class UnreliableProtocol implements ChannelProtocol {
    /** Opens the unreliable protocol of a channel. */
    public static final Factory FACTORY = UnreliableProtocol::new;

    private final ChannelState channel;
    private final EndpointState endpoint;
    private final ChannelServices services;
    private final Arrival arrival;
    /** When the message arriving must have its next fragment (System.nanoTime), while {@link #timedIndex} >= 0. */
    long deadline;
    /** Index in {@link Reassembly}'s table, or -1 while not timed. */
    int timedIndex = -1;

    private UnreliableProtocol(ChannelState channel, ChannelServices services) {
        this.channel = channel;
        this.endpoint = channel.endpoint;
        this.services = services;
        this.arrival = channel.arrival;
    }

    @Override
    public boolean isReliable() {
        return false;
    }

    @Override
    public boolean send(SendDescriptor d) {
        if (d.messageId == SendDescriptor.UNNUMBERED) {
            d.messageId = channel.nextMessageId++;
            if (d.modifiedSinceSend(services.reuseCheck)) {
                services.completions.completeQueuedSend(endpoint, d, CompletionStatus.BUFFER_MODIFIED,
                        "send buffer was modified after send() and before the NIC read it: wait for the completion");
                return true;
            }
        }
        return services.sends.transmitUnreliable(endpoint, d);
    }

    @Override
    public int progress(long now) {
        return 0;
    }

    @Override
    public void deliver(FrameHeader h, PayloadSource payload, long now) {
        if (!accept(h)) {
            return;
        }
        try {
            services.pages.copyIn(endpoint.context, arrival, payload, h.fragmentOffset, writable(h));
        } catch (RuntimeException e) {
            completeReceive(CompletionStatus.PIN_FAILED, e.getMessage());
            return;
        }
        placed(h);
    }

    @Override
    public boolean claim(FrameHeader h, Placement placement, long now) {
        if (!accept(h)) {
            return false;
        }
        int length = writable(h);
        int index = arrival.offset + h.fragmentOffset;
        try {
            services.pages.translate(endpoint.context, arrival.buffer, arrival.address + index, length);
        } catch (RuntimeException e) {
            completeReceive(CompletionStatus.PIN_FAILED, e.getMessage());
            return false;
        }
        placement.buffer = arrival.buffer;
        placement.index = index;
        placement.address = arrival.address + index;
        placement.length = length;
        return true;
    }

    @Override
    public void commit(FrameHeader h, long now) {
        placed(h);
    }

    /**
     * Decides whether a fragment continues a message here, and for a first fragment takes the
     * oldest posted buffer. False when it is dropped (counted). Nothing is written here.
     */
    private boolean accept(FrameHeader h) {
        if (h.fragmentOffset == 0) {
            if (arrival.active) {
                services.drops.drop(DropReason.ORPHAN_FRAGMENT); // the message in progress lost fragments: reuse its buffer
            } else {
                if (!endpoint.sink.canComplete()) {
                    services.drops.drop(DropReason.COMPLETION_QUEUE_FULL);
                    return false;
                }
                ReceiveDescriptor r = endpoint.freeQueue.peek();
                if (r == null) {
                    services.drops.drop(DropReason.NO_BUFFER);
                    return false;
                }
                arrival.take(endpoint.freeQueue, r);
            }
            arrival.begin(h.messageId, h.messageLength);
            if (h.fragmentLength < h.messageLength) { // more fragments to come: start the reassembly clock
                services.reassembly.arm(this, System.nanoTime());
            }
            return true;
        }
        if (!arrival.active || arrival.messageId != h.messageId || arrival.length != h.messageLength
                || h.fragmentOffset != arrival.received) {
            services.drops.drop(DropReason.ORPHAN_FRAGMENT);
            return false;
        }
        if (timedIndex >= 0) {
            services.reassembly.arm(this, System.nanoTime());
        }
        return true;
    }

    /** Bytes of the fragment that fit in the posted buffer; the rest of a too-long message is discarded. */
    private int writable(FrameHeader h) {
        return Math.max(0, Math.min(h.fragmentLength, arrival.capacity - h.fragmentOffset));
    }

    /** The fragment's payload is in place: account it, and complete the receive on the message's last byte. */
    private void placed(FrameHeader h) {
        arrival.received += h.fragmentLength;
        if (arrival.received == arrival.length) {
            services.reassembly.disarm(this);
            services.completions.messageArrived(channel);
        }
    }

    private void completeReceive(CompletionStatus status, String detail) {
        services.reassembly.disarm(this);
        services.completions.completeReceive(channel, status, detail);
    }

    /** The message's next fragment is overdue ({@link Reassembly}). */
    void expire(long timeoutNanos) {
        services.drops.drop(DropReason.INCOMPLETE);
        completeReceive(CompletionStatus.INCOMPLETE, "message " + arrival.messageId + " timed out after "
                + timeoutNanos / 1_000_000 + " ms with " + arrival.received + " of " + arrival.length
                + " bytes: fragments were lost; post the buffer again");
    }

    @Override
    public void released(SendDescriptor d) {
        // unreliable sends are completed by the send loop when their last held fragment is released
    }

    @Override
    public boolean beginClose() {
        return false;
    }

    @Override
    public boolean isClosing() {
        return false;
    }

    @Override
    public void abandon(CompletionStatus status, String detail) {
        if (arrival.active) {
            completeReceive(status, detail == null ? "channel closed while a message was arriving" : detail);
        }
    }

    @Override
    public void refuseFreeInFlight(long address, long length) {
        if (arrival.overlaps(address, length)) {
            FreeGuard.refuse(address, length, "a message arriving now");
        }
    }

    @Override
    public ReliableStats stats() {
        return null;
    }
}
