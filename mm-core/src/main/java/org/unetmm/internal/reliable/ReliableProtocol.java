package org.unetmm.internal.reliable;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.unetmm.ChannelConfig;
import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.ReliableStats;
import org.unetmm.internal.ChannelProtocol;
import org.unetmm.internal.ChannelServices;
import org.unetmm.internal.ChannelState;
import org.unetmm.internal.EndpointState;
import org.unetmm.internal.FrameChecksum;
import org.unetmm.internal.RttEstimator;
import org.unetmm.internal.SendDescriptor;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.Placement;

/**
 * The reliable protocol of one channel ({@link ChannelConfig#reliable()}), both directions, on
 * any wire. U-Net is unreliable; this is the layer the NIC adds so a zero-copy sender can know
 * when its buffer is free again: when the peer has acknowledged every fragment of it.
 *
 * <h2>Sequence and delivery</h2>
 * Every message sent on the channel takes the next message id, from 0. The receiver keeps a
 * window of reassemblies, one posted buffer each, for the ids {@code [expected, expected + W)}
 * where W is the smaller of {@link ChannelConfig#window()} and the SACK blocks an ACK can carry
 * (at most {@value #MAX_SACK_BLOCKS}). A loss in one message therefore stalls nothing: the
 * messages after it keep arriving into their own buffers while its missing fragment is resent
 * (as TCP's receive window holds out-of-order segments). Posted buffers are taken in id order, so
 * the free queue's order is still the messages' order, and completions are issued strictly in id
 * order: a message that is complete waits for the ones before it.
 * <ul>
 *   <li>{@code id < expected}: a duplicate of a delivered message; dropped, and acknowledged at once
 *       (its acknowledgement was lost);</li>
 *   <li>{@code id >= expected + W}: beyond the window (the peer's window is larger); dropped, and
 *       acknowledged at once with {@link FrameHeader#FLAG_OUT_OF_ORDER};</li>
 *   <li>otherwise its fragments are accepted in any order and placed by offset into the message's
 *       buffer. The sender's fragment size is learnt from any fragment but the last (they all have
 *       it), and the last fragment of a multi-fragment message is taken once it is known. A bitmap
 *       of fragments received makes duplicate suppression exact: an accepted fragment is never
 *       written again. A fragment counts only once its checksum verified.</li>
 * </ul>
 * No posted buffer (or a full completion queue): the fragment is not accepted and not
 * acknowledged; a receiver-not-ready NACK (as InfiniBand's RNR NAK) tells the sender to pause
 * and retry, which is evidence that the peer is alive.
 *
 * <h2>Frames</h2>
 * <pre>
 *  DATA   flags RELIABLE|ACK[|CHECKSUM]  messageId, fragment offset/length, message length as any
 *         fragment; ack = the cumulative acknowledgement of the reverse direction (piggyback)
 *  ACK    flags RELIABLE|ACK[|CHECKSUM][|PROBE][|OUT_OF_ORDER]  ack = messageId = next id expected;
 *         payload: nothing, or one 16-byte selective-ack block for every message of the receive
 *         window from the expected one up to the last one any fragment has arrived for, saying
 *         which of its fragments arrived (drawn in {@code ControlFrames}, above its offsets)
 *  NACK   flags RELIABLE|ACK[|CHECKSUM]  messageId = the message refused: receiver not ready
 *  CLOSE  flags RELIABLE|ACK[|CHECKSUM]  messageId = the id after the last message: sequenced
 *         behind every message, delivered in order, acknowledged, then both ends close
 * </pre>
 * With {@link ChannelConfig#checksum()} every frame carries the CRC32C of its header fields and
 * payload ({@link FrameChecksum}); a frame that fails is dropped, counted ({@link DropReason#CORRUPT})
 * and never acknowledged, so it is sent again. The piggybacked ack of a DATA frame is believed
 * only once the frame verified.
 *
 * <h2>Acknowledgements and the sender</h2>
 * An accepted fragment makes an acknowledgement due within {@link ChannelConfig#ackDelay()}, so a
 * reply sent meanwhile carries it instead (an RPC's response acknowledges its request); every
 * second fragment, a duplicate, an out-of-order frame or a probe is acknowledged at once (at the
 * channel's next progress: a poll that brings a whole window is acknowledged when it ends). The
 * sender keeps up to {@link ChannelConfig#window()} messages in flight: a send leaves the
 * endpoint's send queue for a window slot (a copy of its descriptor; the buffer stays where it
 * is) and completes only when the peer's cumulative acknowledgement passes it. Until then its
 * buffer is the NIC's: a retransmission reads the user's memory again, through the TLB.
 *
 * <p>The sender keeps a scoreboard per message in the window (RFC 6675): which fragments the
 * peer has (cumulative and selective acks), which are deemed lost, and for every fragment the
 * transmission number and time of its latest send. Transmission numbers run across messages, so
 * loss is detected across the whole window as QUIC does (RFC 9002 §6.1.1): a fragment not yet
 * acknowledged is lost once a fragment sent {@value #REORDER_THRESHOLD} or more transmissions
 * after it is acknowledged, provided the peer's SACK blocks could have reported it. Only lost
 * fragments are sent again (selective repeat), ahead of new data; nothing the peer holds is
 * resent. An acknowledgement of a resent fragment moves the newest acknowledged transmission to
 * the resend only when the earlier send is known lost (it was judged so by this rule, and the
 * acknowledgement came at least the smallest round trip after the resend, RFC 8985 §6.2); after
 * a timeout, a NACK or a reneged SACK it cannot say which send arrived and moves nothing — taking
 * the resend then declares everything sent in between lost, and the retransmissions cascade.
 *
 * <h2>Timers (driven by {@code Nic.progress()})</h2>
 * One retransmission timer per channel, armed while anything is unacknowledged, restarted by
 * every acknowledged progress, with the timeout of {@link RttEstimator} (RFC 6298). Every
 * acknowledgement that newly covers a fragment sent exactly once yields a round-trip sample from
 * the most recently sent such fragment; a fragment sent again never does (Karn's rule). On expiry
 * (a tail loss, or the peer silent): back off (double), and resend the oldest unacknowledged
 * fragment only, as a probe; its acknowledgement, being the newest transmission, marks everything
 * older that is still missing as lost, and recovery proceeds by SACK. When every fragment of the
 * oldest message is selectively acknowledged and still not cumulatively (the peer reneged: its
 * buffer failed to pin), the expiry forgets that message's SACK state and resends it whole
 * (RFC 6675 §5.1). A peer that has been heard from and then falls silent for
 * {@link ChannelConfig#keepAlive()} is probed (an ACK with {@code PROBE}), the probe retried on
 * the same back-off.
 *
 * <h2>Liveness</h2>
 * A time, not a count ({@link ChannelConfig#peerTimeout()}, 10 s by default, which a GC pause or
 * a stopped process survives): while something is unacknowledged, the peer is given up on once
 * {@code peerTimeout} has passed since the last acknowledged progress (new fragments or messages
 * acknowledged, or a receiver-not-ready NACK; a peer that answers but never acknowledges —
 * restarted, its sequence lost — makes no progress); while idle with probes on, once it has
 * passed since the peer was last heard. Then every send in the window, every message arriving and
 * every send still queued for the channel complete with {@link CompletionStatus#PEER_UNREACHABLE},
 * and the channel closes. {@link ChannelConfig#worstCaseDeathDetection()} is that time. Silence
 * counts only while this engine runs: a gap between two progress rounds longer than {@code maxRto}
 * (this process paused, its NIC thread starved) is not held against the peer beyond {@code maxRto},
 * so a channel that wakes from its own pause retransmits before it judges.
 *
 * <h2>Close</h2>
 * {@code Channel.close()} is orderly: no new sends; queued and in-flight sends are delivered and
 * acknowledged; then CLOSE is sent and retransmitted until acknowledged (or
 * {@link ChannelConfig#maxRetransmits()} run out), and the channel closes. The peer acknowledges
 * CLOSE and closes its end; its sends not yet acknowledged complete {@link CompletionStatus#CLOSED}.
 * Endpoint and NIC close are abrupt: every pending operation completes CLOSED at once.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>Every send completes exactly once; with OK only after the peer's cumulative ack passed it,
 *       and its buffer is not read after that completion.</li>
 *   <li>Every message is delivered at most once, in id order, and only bytes that verified count.
 *       Every posted buffer the receive window took completes exactly once.</li>
 *   <li>Nothing is allocated per frame: window slots, scoreboards and the workspace are made up
 *       front (they grow only for a message with more fragments than any before it).</li>
 *   <li>Every method runs under the NIC's engine lock (NIC thread or the caller's progress), and
 *       nothing transmits from the receive path: acknowledgements due are sent by {@link #progress}.</li>
 *   <li>The channel's {@code Arrival} describes a receive-window slot only while the NIC copies
 *       into it or completes it; otherwise the slot holds what it describes.</li>
 * </ol>
 *
 * <h2>The parts</h2>
 * One concept a file, all of this package, each reaching the engine only through
 * {@link ChannelServices}: {@code ReliableSender} (the window, the retransmission timer,
 * selective repeat) with {@code LossDetector} (transmission numbers, round-trip samples, loss);
 * {@code ReliableReceiver} (the receive window, admission, placement, in-order delivery);
 * {@code AckDebt} (the acknowledgements and NACKs owed to the peer); {@code Liveness} (the
 * silence clock, keep-alive probes, the peer timeout); {@code ControlFrames} (ACK, NACK, CLOSE and
 * the SACK block layout). This class keeps the close state machine and dispatches every frame.
 */
public final class ReliableProtocol implements ChannelProtocol {
    private static final Logger LOG = LoggerFactory.getLogger(ReliableProtocol.class);
    /** Most SACK blocks one ACK carries, and so the largest receive window. */
    static final int MAX_SACK_BLOCKS = 64;
    /** Fragments acknowledged after a missing one, in transmission order, before it is deemed lost (RFC 9002 kPacketThreshold). */
    static final int REORDER_THRESHOLD = 3;

    private static final int OPEN = 0;
    /** close() was called: queued and in-flight sends finish, then CLOSE goes out. */
    private static final int DRAINING = 1;
    /** CLOSE is in flight, waiting for its acknowledgement. */
    private static final int CLOSE_SENT = 2;
    private static final int DONE = 3;

    final ChannelServices services;
    final ChannelState channel;
    final EndpointState endpoint;
    final ChannelConfig options;
    final Workspace ws;
    final RttEstimator rtt;
    final ReliableCounters counters = new ReliableCounters();
    final int mtu;
    final int checksumFlag;
    final ControlFrames frames;
    final ReliableSender sender;
    final ReliableReceiver receiver;
    final AckDebt debt;
    final Liveness liveness;

    private int state = OPEN;
    /** Set by close() on the application thread: sends are refused from then on. */
    private volatile boolean closing;
    /** Retransmissions of CLOSE without its acknowledgement. */
    private int closeRetries;
    private long closeId = -1;
    private boolean closeDue;

    /** Makes the reliable protocols of one NIC's channels; they share one workspace (one engine runs them). */
    public static Factory factory() {
        Workspace workspace = new Workspace();
        return (channel, services) -> new ReliableProtocol(channel, services, workspace);
    }

    private ReliableProtocol(ChannelState channel, ChannelServices services, Workspace workspace) {
        this.services = services;
        this.channel = channel;
        this.endpoint = channel.endpoint;
        this.options = channel.options;
        this.ws = workspace;
        this.rtt = new RttEstimator(options.initialRto().toNanos(), options.minRto().toNanos(), options.maxRto().toNanos());
        this.mtu = services.sends.mtu();
        this.checksumFlag = options.checksum() ? FrameHeader.FLAG_CHECKSUM : 0;
        this.frames = new ControlFrames(this);
        this.sender = new ReliableSender(this);
        this.receiver = new ReliableReceiver(this);
        this.debt = new AckDebt(this);
        this.liveness = new Liveness(this);
    }

    @Override
    public boolean isReliable() {
        return true;
    }

    @Override
    public boolean isClosing() {
        return closing;
    }

    /** Whether the channel has ended: nothing more is sent, received or completed. */
    boolean isDone() {
        return state == DONE;
    }

    /** Whether CLOSE is in flight, waiting for its acknowledgement. */
    boolean isCloseSent() {
        return state == CLOSE_SENT;
    }

    /** The message id CLOSE took (-1 before it is sent). */
    long closeId() {
        return closeId;
    }

    /**
     * Takes the send at the head of the endpoint's send queue into the window and releases its
     * queue slot. Returns false, leaving it queued, when the window is full.
     */
    @Override
    public boolean send(SendDescriptor d) {
        return sender.send(d);
    }

    /** The channel's periodic work: completions, timers, transmission, acknowledgements, liveness. */
    @Override
    public int progress(long now) {
        if (state == DONE) {
            return 0;
        }
        int work = sender.completeAcknowledged();
        liveness.progressRound(now);
        if (liveness.peerGaveUpOn(now)) {
            return work + 1;
        }
        if (sender.timerExpired(now) && state != DONE) {
            onTimeout(now);
            work++;
        }
        sender.resumeIfDue(now);
        if (!sender.paused() && state != DONE) {
            work += sender.sendData(now);
        }
        if (state == DRAINING) {
            work += drain(now);
        }
        if (closeDue && state == CLOSE_SENT) {
            work += sendClose(now);
        }
        if (receiver.deliveryBlocked() && state != DONE) {
            work += receiver.deliverInOrder();
        }
        if (state != DONE) {
            work += debt.flush(now);
        }
        if (state != DONE) {
            work += liveness.keepAlive(now);
            sender.accountAckWait(now);
        }
        return work;
    }

    private void onTimeout(long now) {
        sender.disarm();
        if (state == CLOSE_SENT) {
            counters.timeouts++;
            if (++closeRetries > options.maxRetransmits()) {
                finishClose("peer did not acknowledge CLOSE after " + options.maxRetransmits() + " retransmissions;"
                        + " every message had been acknowledged");
                return;
            }
            rtt.backOff();
            closeDue = true;
            sender.arm(now, rtt.rto());
            return;
        }
        sender.onTimeout(now);
    }

    // =============================================================================================
    // frames in
    // =============================================================================================

    /** A frame for this channel from the copy-in path (loopback): the NIC pulls the payload itself. */
    @Override
    public void deliver(FrameHeader h, PayloadSource payload, long now) {
        if (h.type != FrameHeader.TYPE_DATA) {
            if (!ControlFrames.sackLengthValid(h.fragmentLength)) {
                malformed();
                return;
            }
            if (h.fragmentLength > 0) {
                payload.copyTo(0, ws.ackIn.buffer(), 0, h.fragmentLength);
            }
            onControl(h, now);
            return;
        }
        receiver.deliver(h, payload, now);
    }

    /** The placement path (udp): where the payload goes, or false to discard it (dropped, or a control frame handled). */
    @Override
    public boolean claim(FrameHeader h, Placement placement, long now) {
        if (h.type != FrameHeader.TYPE_DATA) {
            if (h.fragmentLength == 0) {
                onControl(h, now);
                return false;
            }
            if (!ControlFrames.sackLengthValid(h.fragmentLength)) {
                malformed();
                return false;
            }
            ControlFrames.fill(placement, ws.ackIn, 0, h.fragmentLength);
            return true;
        }
        return receiver.claim(h, placement, now);
    }

    /** The payload of the frame last claimed has been written. */
    @Override
    public void commit(FrameHeader h, long now) {
        if (h.type != FrameHeader.TYPE_DATA) {
            onControl(h, now);
        } else {
            receiver.placed(h, now);
        }
    }

    /** ACK, NACK or CLOSE: verified, then acted on. Its SACK blocks, if any, are in the workspace's {@code ackIn}. */
    private void onControl(FrameHeader h, long now) {
        int length = h.fragmentLength;
        if (!frames.verified(h)) {
            counters.corrupted++;
            services.drops.drop(DropReason.CORRUPT);
            return;
        }
        liveness.heard(now);
        if (h.type == FrameHeader.TYPE_ACK) {
            counters.acksReceived++;
            if ((h.flags & FrameHeader.FLAG_ACK) != 0) {
                sender.onAckFrame(h.ack, length, now);
                if (state == DONE) {
                    return;
                }
            }
            if ((h.flags & FrameHeader.FLAG_PROBE) != 0) {
                debt.ackNow();
            }
            return;
        }
        if ((h.flags & FrameHeader.FLAG_ACK) != 0) {
            sender.onPiggybackAck(h.ack, now);
            if (state == DONE) {
                return;
            }
        }
        switch (h.type) {
            case FrameHeader.TYPE_NACK -> sender.onNotReady(h.messageId, h.ack, now);
            case FrameHeader.TYPE_CLOSE -> receiver.onPeerClose(h.messageId);
            default -> malformed();
        }
    }

    void malformed() {
        services.drops.drop(DropReason.MALFORMED);
    }

    /** A fragment the wire held is released: the send at the window's base may complete now. */
    @Override
    public void released(SendDescriptor d) {
        if (d.held == 0 && state != DONE) {
            sender.completeAcknowledged();
        }
    }

    // =============================================================================================
    // close and failure
    // =============================================================================================

    /** Channel.close() on an open reliable channel: drain, then CLOSE; the channel closes itself when done. */
    @Override
    public boolean beginClose() {
        if (state == OPEN) {
            closing = true;
            state = DRAINING;
            if (!channel.isConnected()) {
                finishClose(null);
            }
        }
        return true;
    }

    private int drain(long now) {
        if (!sender.drained() || queuedSends()) {
            return 0;
        }
        state = CLOSE_SENT;
        closeId = sender.next();
        closeDue = true;
        return sendClose(now);
    }

    /** Whether the endpoint's send queue still holds a send for this channel. */
    private boolean queuedSends() {
        SendDescriptor d;
        for (int i = 0; (d = endpoint.sendQueue.peekAt(i)) != null; i++) {
            if (d.channel == channel) {
                return true;
            }
        }
        return false;
    }

    private int sendClose(long now) {
        FrameHeader h = frames.control(FrameHeader.TYPE_CLOSE, closeId, 0);
        if (!frames.transmit(h, 0)) {
            return 0;
        }
        closeDue = false;
        sender.armIfIdle(now);
        return 1;
    }

    void finishClose(String detail) {
        fail(CompletionStatus.CLOSED, detail == null ? "channel closed" : detail);
    }

    /** The peer's CLOSE has been acknowledged: this end closes too. */
    void closedByPeer() {
        LOG.info("reliable channel {} closed by its peer", channel);
        fail(CompletionStatus.CLOSED, "peer closed the channel");
    }

    /**
     * Ends the channel: the NIC closes it (tag freed, the message arriving completes with
     * {@code status}) and calls back {@link #abandon}, which completes the window.
     */
    void fail(CompletionStatus status, String detail) {
        if (state == DONE) {
            return;
        }
        if (status == CompletionStatus.PEER_UNREACHABLE) { // what an operator must know; once per channel
            LOG.warn("reliable channel {} declared its peer unreachable: {}", channel, detail);
        }
        services.close(channel, status, detail);
    }

    /** The wire knows the peer is gone: no retransmission will reach it, so the channel fails now. */
    @Override
    public void peerLost(String why) {
        fail(CompletionStatus.PEER_UNREACHABLE, "the wire lost the peer: " + why);
    }

    /**
     * The channel is closing for good (by {@link #fail} or an endpoint/NIC close): sends the peer
     * acknowledged complete OK, every other send in the window with {@code status}, and every
     * posted buffer the receive window holds completes with {@code status}.
     */
    @Override
    public void abandon(CompletionStatus status, String detail) {
        if (state == DONE) {
            return;
        }
        state = DONE;
        closing = true;
        sender.abandon(status, detail);
        receiver.abandon(status, detail);
    }

    /** Refuses freeing memory a send in the window still reads, or a posted buffer the receive window holds (DESIGN §3). */
    @Override
    public void refuseFreeInFlight(long address, long length) {
        sender.refuseFreeInFlight(address, length);
        receiver.refuseFreeInFlight(address, length);
    }

    @Override
    public ReliableStats stats() {
        return counters.stats(rtt, sender.inFlight(), System.nanoTime()); // not the engine's clock: it stops while idle
    }
}
