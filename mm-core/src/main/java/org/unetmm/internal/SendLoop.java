package org.unetmm.internal;

import org.unetmm.CompletionStatus;
import org.unetmm.pinning.PinCache;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.Transport;

/**
 * The send side of the engine, in the order a message travels: take the descriptor at the head
 * of an endpoint's send queue, give it to its channel's protocol, cut it into fragments of at most
 * the MTU, and hand each to {@link Transport#transmit} with a {@link SendSource} that translates
 * the sender's pages as the wire reads them. A wire may keep a fragment after {@code transmit}
 * ({@link SendSource#retain()}); the send completes when the wire {@linkplain #released releases}
 * its last held fragment, never before (DESIGN invariant 6). Engine lock held throughout.
 */
public final class SendLoop {
    /**
     * Sends taken from one endpoint's queue per progress round, so one endpoint cannot starve the
     * rest. 256, not 64: a udp stream's round is one sendmmsg, and 256 small messages share its
     * datagram (udp 64 B stream, 3 pairs side by side: 4.91/4.93/5.14 -> 5.32/5.51/5.50 M msgs/s; shm
     * level within its spread, 4 pairs).
     */
    private static final int SEND_BATCH = 256;

    private final Transport transport;
    private final int mtu;
    private final Completions completions;
    private final TrafficCounters traffic;
    private final HeldFragments held;
    private final SendSource source;
    private final FrameHeader header = new FrameHeader();
    private String transmitFailure;

    public SendLoop(Transport transport, int mtu, PageWalk pages, Completions completions, TrafficCounters traffic,
                    HeldFragments held, PinCache pinCache) {
        this.transport = transport;
        this.mtu = mtu;
        this.completions = completions;
        this.traffic = traffic;
        this.held = held;
        this.source = new SendSource(pages, held, pinCache);
    }

    public int mtu() {
        return mtu;
    }

    /** Takes up to a batch of {@code ep}'s queued sends to their protocols; returns how many were taken. */
    public int processSends(EndpointState ep) {
        int done = 0;
        SendDescriptor d;
        while (done < SEND_BATCH && (d = ep.sendQueue.peek()) != null) {
            if (!ep.sink.canComplete()) {
                break; // the application must drain completions first: never lose one
            }
            ChannelState channel = d.channel;
            if (channel.closed) {
                completions.completeQueuedSend(ep, d, channel.closeStatus == null ? CompletionStatus.CLOSED
                        : channel.closeStatus, "channel was closed before the send was transmitted"
                        + (channel.closeDetail == null ? "" : ": " + channel.closeDetail));
                done++;
                continue;
            }
            if (!channel.protocol.send(d)) {
                break;
            }
            done++;
        }
        return done;
    }

    /**
     * Hands an unreliable send's remaining fragments to the wire and completes it (at once, or
     * when the wire releases what it held). False when the wire pushed back: the send stays at the
     * head of the queue, its progress kept.
     */
    public boolean transmitUnreliable(EndpointState ep, SendDescriptor d) {
        ChannelState channel = d.channel;
        do {
            int fragment = Math.min(mtu, d.length - d.sent);
            FrameHeader h = header;
            h.type = FrameHeader.TYPE_DATA;
            channel.address(h);
            h.messageId = d.messageId;
            h.fragmentOffset = d.sent;
            h.messageLength = d.length;
            h.fragmentLength = fragment;
            h.flags = 0;
            int result = transmit(channel, h, ep, d, d.heldCopy, d.sent, fragment);
            if (result < 0) {
                finishUnreliable(ep, d, CompletionStatus.PIN_FAILED, transmitFailure);
                return true;
            }
            if (result == 0) {
                return false;
            }
            d.sent += fragment;
        } while (d.sent < d.length);
        traffic.messageSent(d.length);
        finishUnreliable(ep, d, CompletionStatus.OK, null);
        return true;
    }

    /** The queued send is decided: complete it now, or, while a wire holds fragments of it, when they are released. */
    private void finishUnreliable(EndpointState ep, SendDescriptor d, CompletionStatus status, String detail) {
        SendDescriptor copy = d.heldCopy;
        if (copy == null) {
            completions.completeQueuedSend(ep, d, status, detail);
            return;
        }
        copy.sent = d.sent;
        d.clear(); // the copy owns the send now; the queue slot goes back to the application
        ep.sendQueue.release();
        decide(copy, status, detail);
    }

    private void decide(SendDescriptor copy, CompletionStatus status, String detail) {
        if (copy.outcome == null || copy.outcome == CompletionStatus.OK) {
            copy.outcome = status;
            copy.outcomeDetail = detail;
        }
        if (copy.held == 0) {
            EndpointState ep = copy.channel.endpoint;
            completions.completeSend(ep, copy, copy.outcome, copy.outcomeDetail);
            held.recycle(copy);
        } else {
            copy.counted = true; // decided: completes when the wire releases its last fragment
        }
    }

    /**
     * One fragment to the wire. 1 taken, 0 back-pressured, -1 its memory could not be translated
     * ({@link #transmitFailure()} says why). {@code owner} is the stable descriptor a retained
     * fragment's token names (a reliable window slot); null for a queued unreliable send.
     */
    public int transmit(ChannelState channel, FrameHeader h, EndpointState ep, SendDescriptor d, SendDescriptor owner,
                        int offset, int length) {
        source.start(ep, d, owner, offset, length);
        boolean taken;
        RuntimeException thrown = null;
        try {
            taken = transport.transmit(channel.route, h, source);
        } catch (RuntimeException e) { // a gathering wire lets the payload's translation failure through
            thrown = e;
            taken = false;
        }
        boolean retained = source.retained();
        RuntimeException failure = source.finish();
        if (thrown != null && thrown != failure) {
            throw thrown; // the wire's own fault, not the send's memory
        }
        if (failure != null) {
            transmitFailure = failure.getMessage();
            return -1;
        }
        if (!taken) {
            if (retained) {
                throw new IllegalStateException("wire " + transport + " retained a fragment it did not take");
            }
            traffic.countBackPressure();
            return 0;
        }
        traffic.fragmentSent();
        return 1;
    }

    /** Why the last {@link #transmit} failed. */
    public String transmitFailure() {
        return transmitFailure;
    }

    /** A control frame (acknowledgement, NACK, CLOSE) whose body is the NIC's own memory; false when the wire pushed back. */
    public boolean transmitControl(ChannelState channel, FrameHeader h, PayloadSource body) {
        return transport.transmit(channel.route, h, body);
    }

    /**
     * A wire released a fragment it held. An unreliable send whose fragments were all taken
     * completes when its last one is released (failed if any failed); a reliable send's protocol
     * is told, and completes it on the peer's acknowledgement once nothing is held.
     */
    public void released(long token, String failure) {
        SendDescriptor d = held.release(token);
        ChannelState channel = d.channel;
        if (channel == null) {
            return; // its send was completed already (a channel closed under it); only the pin had to go
        }
        if (channel.protocol.isReliable()) {
            channel.protocol.released(d);
            return;
        }
        if (failure != null && (d.outcome == null || d.outcome == CompletionStatus.OK)) {
            d.outcome = CompletionStatus.PEER_UNREACHABLE;
            d.outcomeDetail = "the wire could not send a fragment: " + failure;
        }
        if (d.held == 0 && d.outcome != null && d.counted) { // decided: the last fragment was taken before
            d.counted = false;
            completions.completeSend(channel.endpoint, d, d.outcome, d.outcomeDetail);
            held.recycle(d);
        }
    }

    /** Fragments held by the wire now. */
    public int heldFragments() {
        return held.size();
    }

    /**
     * Makes the wire finish or fail what it holds (before an endpoint or the NIC closes), then
     * releases, as failed, whatever a wire that broke the contract still holds.
     */
    public int flush() {
        if (held.size() == 0) {
            return 0;
        }
        transport.flush();
        long[] left = held.tokens();
        for (long token : left) {
            released(token, "the wire kept the fragment past flush()");
        }
        return left.length;
    }
}
