package org.unetmm;

import java.nio.ByteBuffer;
import org.unetmm.spi.Transport;

/**
 * U-Net's tag: the binding of a local tag on this NIC to a peer's (transport address, tag).
 * Opened by {@link Endpoint#openChannel()} and connected by {@link #connect} (the "kernel" call
 * that lets the endpoint use the wire); the NIC demultiplexes arriving frames by destination tag,
 * and drops frames whose source tag is not the connected peer's. A channel not yet connected
 * listens: it takes messages from any source (a server's well-known tag; the first message names
 * who sent it in its payload), and interleaved multi-fragment messages from several sources are
 * not told apart, so listening channels suit small first-contact messages.
 */
public final class Channel implements AutoCloseable {
    final Endpoint endpoint;
    final int localTag;
    volatile ChannelAddress remote;
    Transport.Route route;
    int remoteTag;
    volatile boolean closed;
    /** How the channel ended (null while open): CLOSED, PEER_UNREACHABLE, PIN_FAILED. */
    volatile CompletionStatus closeStatus;
    volatile String closeDetail;
    final ChannelOptions options;
    /** The reliable protocol (issue 6), or null for U-Net's unreliable channel. Set once, at open. */
    ReliableChannel reliable;

    // send side, NIC thread only
    long nextMessageId;

    // reassembly of the message arriving now, NIC thread only
    boolean rxActive;
    long rxMessageId;
    ByteBuffer rxBuffer;
    long rxAddress;
    int rxOffset;
    int rxCapacity;
    long rxCookie;
    int rxReceived;
    int rxLength;
    boolean rxTruncated;
    /** A multi-fragment message is arriving: it must be complete by {@link #rxDeadline} (System.nanoTime). */
    boolean rxTimed;
    long rxDeadline;

    /**
     * Takes the oldest posted buffer (the free queue's head, already peeked) for the message now
     * arriving on this channel: its fields move here and the queue slot goes back to the poster.
     * NIC engine only.
     */
    void takePostedBuffer(Endpoint.ReceiveDescriptor r) {
        rxBuffer = r.buffer;
        rxAddress = r.address;
        rxOffset = r.offset;
        rxCapacity = r.length;
        rxCookie = r.cookie;
        r.buffer = null;
        endpoint.freeQueue.release();
        rxActive = true;
    }

    Channel(Endpoint endpoint, int localTag) {
        this(endpoint, localTag, ChannelOptions.unreliable());
    }

    Channel(Endpoint endpoint, int localTag, ChannelOptions options) {
        this.endpoint = endpoint;
        this.localTag = localTag;
        this.options = options;
    }

    /** This channel's own address, to give to the peer. */
    public ChannelAddress address() {
        return new ChannelAddress(endpoint.nic.transportAddress(), localTag);
    }

    public int tag() {
        return localTag;
    }

    /** The peer, or null before {@link #connect}. */
    public ChannelAddress remote() {
        return remote;
    }

    public boolean isConnected() {
        return remote != null;
    }

    public boolean isClosed() {
        return closed;
    }

    /** The options it was opened with. */
    public ChannelOptions options() {
        return options;
    }

    /** Whether sends complete on the peer's acknowledgement (see {@link ChannelOptions#reliable()}). */
    public boolean isReliable() {
        return options.isReliable();
    }

    /**
     * Why the channel closed: {@link CompletionStatus#CLOSED} (this end or the peer closed it),
     * {@link CompletionStatus#PEER_UNREACHABLE} (a reliable peer stopped answering) or
     * {@link CompletionStatus#PIN_FAILED}; null while it is open or draining.
     */
    public CompletionStatus closeStatus() {
        return closeStatus;
    }

    /** The words that go with {@link #closeStatus()} (null while open). */
    public String closeDetail() {
        return closeDetail;
    }

    /** The reliable protocol's counters and timers. */
    public ReliableStats reliableStats() {
        if (reliable == null) {
            throw new IllegalStateException("channel " + localTag + " is unreliable: open it with ChannelOptions.reliable()"
                    + " for acknowledgements, retransmission and their counters");
        }
        return endpoint.nic.reliableStats(this);
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    /** Binds this channel to a peer channel; resolves its transport address once. */
    public Channel connect(ChannelAddress peer) {
        endpoint.nic.connect(this, peer);
        return this;
    }

    /**
     * Closes the channel: its tag is freed, a message arriving on it now completes with CLOSED.
     * A reliable channel closes in order instead: sends are refused from now on, those queued and
     * in flight are delivered and acknowledged, then a CLOSE frame tells the peer, and the channel
     * is closed ({@link #isClosed()}) once the peer acknowledged it. That takes progress: in CALLER
     * mode keep calling {@link Nic#progress()} until {@link #isClosed()}. Closing the endpoint
     * instead is abrupt: everything pending completes CLOSED at once.
     */
    @Override
    public void close() {
        endpoint.nic.closeChannel(this);
    }

    @Override
    public String toString() {
        return "Channel[" + endpoint.nic.transportAddress() + "/" + localTag + " -> " + remote + "]";
    }
}
