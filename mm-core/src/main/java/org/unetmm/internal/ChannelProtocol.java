package org.unetmm.internal;

import org.unetmm.CompletionStatus;
import org.unetmm.ReliableStats;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.Placement;

/**
 * What a channel does with its sends and its arriving frames, chosen when it opens: U-Net's
 * unreliable channel ({@link UnreliableProtocol}) or the reliable protocol of
 * {@code internal.reliable}. The engine has checked who sent every frame it hands in
 * ({@link ChannelTable#target}); the protocol checks what the frame says. Every method runs under
 * the engine lock.
 */
public interface ChannelProtocol {
    /** Makes a channel's protocol when it opens. */
    interface Factory {
        ChannelProtocol open(ChannelState channel, ChannelServices services);
    }

    /** Whether frames of this protocol carry {@link FrameHeader#FLAG_RELIABLE}. */
    boolean isReliable();

    /**
     * The send at the head of the endpoint's send queue, for this channel: transmit it, or take
     * it into a window. Returns true when the send was taken (its queue slot released), false to
     * leave it queued (back-pressure, a full window) and stop this endpoint's send loop for now.
     */
    boolean send(SendDescriptor d);

    /** Periodic work (timers, acknowledgements); returns the work done. */
    int progress(long now);

    /** A frame whose payload the engine pulls in (the wire's {@code onFragment}). */
    void deliver(FrameHeader h, PayloadSource payload, long now);

    /** Where a frame's payload goes, or false to discard it (the wire's {@code claim}). */
    boolean claim(FrameHeader h, Placement placement, long now);

    /** The payload of the frame claimed last is in place. */
    void commit(FrameHeader h, long now);

    /** A fragment of a send of this channel that a wire held is done with; the send may complete now. */
    void released(SendDescriptor d);

    /** The application closed the channel: true when the protocol closes it itself later (orderly close). */
    boolean beginClose();

    /** Whether sends are refused because an orderly close is under way. */
    boolean isClosing();

    /** The channel is closing for good: complete everything the protocol holds with {@code status}. */
    void abandon(CompletionStatus status, String detail);

    /** Refuses freeing memory the protocol's sends still read or its posted buffers will be written. */
    void refuseFreeInFlight(long address, long length);

    /** The reliable protocol's counters, or null. */
    ReliableStats stats();

    /** The wire lost the channel's peer for good ({@link org.unetmm.spi.Inbound#peerLost}); unreliable channels have nothing waiting on it. */
    default void peerLost(String why) {
    }
}
