package org.unetmm.internal;

import java.security.SecureRandom;
import org.unetmm.ChannelAddress;
import org.unetmm.ChannelConfig;
import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.SourceKey;
import org.unetmm.spi.Transport;

/**
 * What the engine knows of one channel: its tag and connection id, the peer it is bound to (the
 * route, the peer's tag and id), how it ended, its protocol, and the unreliable message arriving
 * now. Who may send to it is decided here, by {@link #admit} (see the public {@code Channel}'s
 * class comment for the rules and why). The public {@code Channel} is its handle; the engine
 * never names it, and hands {@link #handle} back in completions.
 */
public final class ChannelState {
    public final EndpointState endpoint;
    public final int localTag;
    /** This channel's connection id: random, non-zero, drawn at open. */
    public final long connectionId;
    public final ChannelConfig options;
    /** The public handle the application holds; opaque to the engine. */
    public Object handle;
    public volatile ChannelAddress remote;
    public Transport.Route route;
    /** Where the peer's frames come from: the route's source key, kept here so a check costs no call. */
    public SourceKey peerSource;
    public int remoteTag;
    /** The peer channel's connection id: from its address at connect, or its first frame's (0 until then). */
    public long remoteConnection;
    /** The peer's address named its connection id: then it knows this channel's and must name it too. */
    public boolean remoteConnectionNamed;
    public volatile boolean closed;
    /** How the channel ended (null while open): CLOSED, PEER_UNREACHABLE, PIN_FAILED. */
    public volatile CompletionStatus closeStatus;
    public volatile String closeDetail;
    /** The channel's protocol, chosen when it opens. */
    public ChannelProtocol protocol;
    /** Next message id of an unreliable send (engine only). */
    public long nextMessageId;
    /** The message arriving now, for the engine's copy-in and completion (engine only). */
    public final Arrival arrival = new Arrival();
    /** The transport address this channel's NIC has (for its own address). */
    public final String transportAddress;

    private static final SecureRandom CONNECTION_IDS = new SecureRandom();

    public ChannelState(EndpointState endpoint, int localTag, ChannelConfig options, String transportAddress) {
        this.endpoint = endpoint;
        this.localTag = localTag;
        this.options = options;
        this.transportAddress = transportAddress;
        this.connectionId = newConnectionId();
    }

    /**
     * From {@link SecureRandom} itself, not a generator seeded by it: a fast generator's next
     * outputs follow from one observed id, which would let anyone who saw one address forge the next.
     */
    private static long newConnectionId() {
        long id;
        do {
            id = CONNECTION_IDS.nextLong();
        } while (id == 0);
        return id;
    }

    public boolean isConnected() {
        return remote != null;
    }

    /** This channel's own address, with its connection id. */
    public ChannelAddress address() {
        return new ChannelAddress(transportAddress, localTag, connectionId);
    }

    /** Fills the addressing of a frame this channel sends: both tags and both connection ids. */
    public void address(FrameHeader h) {
        h.sourceTag = localTag;
        h.destinationTag = remoteTag;
        h.sourceConnection = connectionId;
        h.destinationConnection = remoteConnection;
    }

    /**
     * Whether an arriving frame may be taken on this channel: null when it may, else why not (the
     * caller counts it). A peer whose id was not known learns it here (trust on first use).
     * Engine only; allocates only when it learns the id.
     */
    public DropReason admit(FrameHeader h) {
        if (route == null) { // listening: anyone, but not a frame meant for a previous holder of the tag
            return h.destinationConnection == 0 || h.destinationConnection == connectionId ? null : DropReason.WRONG_CONNECTION;
        }
        if (h.sourceTag != remoteTag) {
            return DropReason.WRONG_SOURCE;
        }
        if (!peerSource.matches(h.source)) {
            return DropReason.WRONG_PEER_ADDRESS;
        }
        if (h.destinationConnection != connectionId && (remoteConnectionNamed || h.destinationConnection != 0)) {
            return DropReason.WRONG_CONNECTION;
        }
        if (h.sourceConnection != remoteConnection) {
            if (remoteConnection != 0 || h.sourceConnection == 0) {
                return DropReason.WRONG_CONNECTION;
            }
            remoteConnection = h.sourceConnection; // trust on first use: the peer is held to it from now on
            remote = new ChannelAddress(remote.transportAddress(), remoteTag, remoteConnection);
        }
        return null;
    }

    @Override
    public String toString() {
        return "Channel[" + address() + " -> " + remote + "]";
    }
}
