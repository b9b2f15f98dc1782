package org.unetmm.internal;

import org.unetmm.CompletionStatus;

/**
 * What the engine offers a channel's protocol: the send loop (fragments to the wire), completion
 * delivery, the page walk, the counters, and ending a channel. Handed to a protocol when its
 * channel opens, so the protocol calls down into these parts and never up into the engine.
 */
public final class ChannelServices {
    /** Ends a channel for good (tag freed, everything pending completes with {@code status}). */
    public interface Closer {
        void close(ChannelState channel, CompletionStatus status, String detail);
    }

    public final SendLoop sends;
    public final Completions completions;
    public final PageWalk pages;
    public final DropCounters drops;
    public final TrafficCounters traffic;
    public final Reassembly reassembly;
    /** {@code NicConfig.reuseCheck()}: PINNED buffers are checksummed at send and checked before completion. */
    public final boolean reuseCheck;
    private final Closer closer;

    public ChannelServices(SendLoop sends, Completions completions, PageWalk pages, DropCounters drops,
                           TrafficCounters traffic, Reassembly reassembly, boolean reuseCheck, Closer closer) {
        this.sends = sends;
        this.completions = completions;
        this.pages = pages;
        this.drops = drops;
        this.traffic = traffic;
        this.reassembly = reassembly;
        this.reuseCheck = reuseCheck;
        this.closer = closer;
    }

    /** Ends {@code channel} with {@code status}: its protocol's {@link ChannelProtocol#abandon} is called back. */
    public void close(ChannelState channel, CompletionStatus status, String detail) {
        closer.close(channel, status, detail);
    }
}
