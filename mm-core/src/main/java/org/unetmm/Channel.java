package org.unetmm;

import java.nio.ByteBuffer;
import org.unetmm.spi.Transport;

/**
 * U-Net's tag: the binding of a local tag on this NIC to a peer's (transport address, tag).
 * Opened by {@link Endpoint#openChannel()} and connected by {@link #connect} (the "kernel" call
 * that lets the endpoint use the wire); the NIC demultiplexes arriving frames by destination tag,
 * and drops frames whose source tag is not the connected peer's.
 */
public final class Channel implements AutoCloseable {
    final Endpoint endpoint;
    final int localTag;
    volatile ChannelAddress remote;
    Transport.Route route;
    int remoteTag;
    volatile boolean closed;

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

    Channel(Endpoint endpoint, int localTag) {
        this.endpoint = endpoint;
        this.localTag = localTag;
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

    public Endpoint endpoint() {
        return endpoint;
    }

    /** Binds this channel to a peer channel; resolves its transport address once. */
    public Channel connect(ChannelAddress peer) {
        endpoint.nic.connect(this, peer);
        return this;
    }

    /** Closes the channel: its tag is freed, a message arriving on it now completes with CLOSED. */
    @Override
    public void close() {
        endpoint.nic.closeChannel(this);
    }

    @Override
    public String toString() {
        return "Channel[" + endpoint.nic.transportAddress() + "/" + localTag + " -> " + remote + "]";
    }
}
