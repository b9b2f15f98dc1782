package org.unetmm;

import java.security.SecureRandom;
import org.unetmm.internal.ChannelState;
import org.unetmm.internal.Engine;

/**
 * U-Net's tag: the binding of a local tag on this NIC to a peer's (transport address, tag).
 * Opened by {@link Endpoint#openChannel()} and connected by {@link #connect} (the "kernel" call
 * that lets the endpoint use the wire); the NIC demultiplexes arriving frames by destination tag,
 * and drops frames whose source tag is not the connected peer's. A channel not yet connected
 * listens: it takes messages from any source (a server's well-known tag; the first message names
 * who sent it in its payload), and interleaved multi-fragment messages from several sources are
 * not told apart, so listening channels suit small first-contact messages.
 *
 * <p><b>Who may send to a channel.</b> Tags are small and reused (a fresh NIC's first channel is
 * always tag 1, a closed channel's tag goes to the next one opened), so a tag alone cannot tell a
 * peer from whoever held that tag, or that port, before. As QUIC's connection IDs (RFC 9000 §5.1),
 * every channel draws a random non-zero 64-bit <em>connection id</em> when it opens; its
 * {@link #address()} carries it, and every frame carries the sending channel's id and the id of
 * the channel it is meant for. A connected channel takes a frame only when all of these hold
 * (checked by the engine's {@code ChannelState.admit}, for unreliable and reliable channels alike):
 * <ol>
 *   <li>the source tag is the peer's ({@link DropReason#WRONG_SOURCE} otherwise);</li>
 *   <li>the wire saw it come from the peer's transport address, the channel's route
 *       ({@link DropReason#WRONG_PEER_ADDRESS}): another process, port or host reusing the tag is
 *       not the peer;</li>
 *   <li>the source connection id is the peer's as it was when they connected, and the destination
 *       connection id is this channel's ({@link DropReason#WRONG_CONNECTION}): a peer restarted on the
 *       same port, whose new channels reuse the tags, or a frame meant for this tag's previous holder,
 *       is not the peer.</li>
 * </ol>
 * When the peer's address came without a connection id (the old {@code <transport>/<tag>} form, a
 * well-known address), the channel takes the id of the first frame that passes the address check and
 * holds the peer to it from then on (trust on first use, as SSH's known hosts): refusing such
 * addresses would break every address written down before ids existed, and the transport-address check
 * still stands. Such a peer may not know this channel's id either, so its frames may name destination
 * 0; a channel connected with the peer's id requires its own, since the peer learnt both addresses the
 * same way (the echo's and the RPC's hellos carry full addresses both ways). A listening channel takes
 * frames from anyone, but only those naming it or no one (destination id 0): a frame for a previous
 * holder of its tag is dropped. The ids come from {@link SecureRandom} itself rather than from a
 * generator merely seeded by it: opening a channel is rare, and a fast generator's next outputs
 * follow from one observed id, which would let anyone who saw one channel's address forge the next.
 */
public final class Channel implements AutoCloseable {
    private final Endpoint endpoint;
    private final Engine engine;
    /** The engine's side of this channel: tags, connection ids, peer, protocol (see {@link ChannelState#admit}). */
    final ChannelState state;

    Channel(Endpoint endpoint, Engine engine, ChannelState state) {
        this.endpoint = endpoint;
        this.engine = engine;
        this.state = state;
        state.handle = this;
    }

    /** {@return this channel's own address, with its connection id, to give to the peer} */
    public ChannelAddress address() {
        return state.address();
    }

    /** {@return this channel's local tag on its NIC} */
    public int tag() {
        return state.localTag;
    }

    /**
     * {@return the peer, or null before {@link #connect}}
     * Its connection id is there once known (given, or learnt from its first frame).
     */
    public ChannelAddress remote() {
        return state.remote;
    }

    /** {@return whether {@link #connect} has bound it to a peer} */
    public boolean isConnected() {
        return state.isConnected();
    }

    /** {@return whether it has closed (by either end, or because a reliable peer stopped answering)} */
    public boolean isClosed() {
        return state.closed;
    }

    /** {@return the options it was opened with} */
    public ChannelConfig options() {
        return state.options;
    }

    /** {@return whether sends complete on the peer's acknowledgement (see {@link ChannelConfig#reliable()})} */
    public boolean isReliable() {
        return state.options.isReliable();
    }

    /**
     * Why the channel closed: {@link CompletionStatus#CLOSED} (this end or the peer closed it),
     * {@link CompletionStatus#PEER_UNREACHABLE} (a reliable peer stopped answering) or
     * {@link CompletionStatus#PIN_FAILED}; null while it is open or draining.
     *
     * @return the reason, or null while open or draining
     */
    public CompletionStatus closeStatus() {
        return state.closeStatus;
    }

    /** {@return the words that go with {@link #closeStatus()} (null while open)} */
    public String closeDetail() {
        return state.closeDetail;
    }

    /**
     * {@return the reliable protocol's counters and timers, a snapshot}
     *
     * @throws IllegalStateException for an unreliable channel
     */
    public ReliableStats reliableStats() {
        if (!isReliable()) {
            throw new IllegalStateException("channel " + state.localTag + " is unreliable: open it with ChannelConfig.reliable()"
                    + " for acknowledgements, retransmission and their counters");
        }
        return engine.reliableStats(state);
    }

    /** {@return the endpoint that opened it} */
    public Endpoint endpoint() {
        return endpoint;
    }

    /**
     * Binds this channel to a peer channel; resolves its transport address once. From now on only
     * that channel's frames are taken (see the class comment): give {@code peer} as the peer's
     * {@link #address()} wrote it, with its connection id.
     *
     * @param peer the peer channel's address, as its {@link #address()} wrote it
     * @return this channel
     */
    public Channel connect(ChannelAddress peer) {
        engine.connect(state, peer);
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
        engine.closeChannel(state);
    }

    @Override
    public String toString() {
        return state.toString();
    }
}
