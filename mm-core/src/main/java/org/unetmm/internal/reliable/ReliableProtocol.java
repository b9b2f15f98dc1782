package org.unetmm.internal.reliable;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.unetmm.ChannelConfig;
import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.ReliableStats;
import org.unetmm.SendPath;
import org.unetmm.internal.Arrival;
import org.unetmm.internal.BufferPayload;
import org.unetmm.internal.ChannelProtocol;
import org.unetmm.internal.ChannelServices;
import org.unetmm.internal.ChannelState;
import org.unetmm.internal.EndpointState;
import org.unetmm.internal.FragmentSet;
import org.unetmm.internal.FrameChecksum;
import org.unetmm.internal.FreeGuard;
import org.unetmm.internal.ReceiveDescriptor;
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
 *         window from the expected one up to the last one any fragment has arrived for:
 *           0                   1                   2                   3
 *           0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *          +---------------------------------------------------------------+
 *          |  prefix: fragments 0 .. prefix-1 received (prefix is missing)  |  0
 *          +---------------------------------------------------------------+
 *          |  message: its id less the cumulative ack (0 = the expected one)|  4
 *          +---------------------------------------------------------------+
 *          |  bitmap: bit i set = fragment prefix+1+i received (LE long)    |  8
 *          |                                                               |
 *          +---------------------------------------------------------------+
 *         (a complete message not yet delivered: prefix = its fragment count, bitmap 0)
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
 * second fragment, a duplicate, an out-of-order frame or a probe is acknowledged at once. The
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
 *   <li>The channel's own reassembly fields ({@code Channel.rx*}) describe a receive-window slot
 *       only while the NIC copies into it or completes it; otherwise the slot holds them.</li>
 * </ol>
 */
public final class ReliableProtocol implements ChannelProtocol {
    private static final Logger LOG = LoggerFactory.getLogger(ReliableProtocol.class);
    /** Bytes of one selective-ack block. */
    static final int SACK_BYTES = 16;
    /** Most SACK blocks one ACK carries, and so the largest receive window. */
    static final int MAX_SACK_BLOCKS = 64;
    /** Fragments acknowledged after a missing one, in transmission order, before it is deemed lost (RFC 9002 kPacketThreshold). */
    static final int REORDER_THRESHOLD = 3;
    /** Largest ring of transmissions awaiting loss detection (entries of 12 bytes). */
    private static final int MAX_TX_RING = 1 << 15;
    private static final int SACK_PREFIX_OFFSET = 0;
    private static final int SACK_MESSAGE_OFFSET = 4;
    private static final int SACK_BITMAP_OFFSET = 8;

    private static final int OPEN = 0;
    /** close() was called: queued and in-flight sends finish, then CLOSE goes out. */
    private static final int DRAINING = 1;
    /** CLOSE is in flight, waiting for its acknowledgement. */
    private static final int CLOSE_SENT = 2;
    private static final int DONE = 3;

    /** Working memory shared by a NIC's reliable channels (one engine runs them, one at a time). */
    static final class Workspace {
        final FrameHeader header = new FrameHeader();
        final FrameChecksum sendChecksum = new FrameChecksum();
        final FrameChecksum receiveChecksum = new FrameChecksum();
        final BufferPayload ackOut = new BufferPayload(
                ByteBuffer.allocateDirect(MAX_SACK_BLOCKS * SACK_BYTES).order(ByteOrder.LITTLE_ENDIAN));
        final BufferPayload ackIn = new BufferPayload(
                ByteBuffer.allocateDirect(MAX_SACK_BLOCKS * SACK_BYTES).order(ByteOrder.LITTLE_ENDIAN));
        /** Where a fragment of a message longer than its posted buffer lands to be verified (made on first use). */
        BufferPayload overflow;

        BufferPayload overflow(int length) {
            if (overflow == null || overflow.capacity() < length) {
                overflow = new BufferPayload(Math.max(length, 64 * 1024));
            }
            return overflow;
        }
    }

    /** A send in the window: a copy of its descriptor and its scoreboard. */
    private static final class Outgoing {
        final SendDescriptor d;
        /** Fragments the peer has (selectively or cumulatively acknowledged). */
        final FragmentSet acked = new FragmentSet();
        /** Fragments deemed lost and not yet sent again. */
        final FragmentSet lost = new FragmentSet();
        /** Fragments sent more than once: their acknowledgements are no round-trip samples (Karn). */
        final FragmentSet resent = new FragmentSet();
        /**
         * Fragments sent again without evidence that the earlier send was lost (a timeout, the
         * receiver not ready, a reneged SACK): which send an acknowledgement of them answers is unknown.
         */
        final FragmentSet ambiguous = new FragmentSet();
        /** Per fragment: the channel's transmission number of its latest send. */
        long[] txSeq = new long[1];
        /** Per fragment: when it was first sent, and when last. */
        long[] txTime = new long[1];
        long[] txLast = new long[1];
        long id;
        int fragments;
        /** Fragments [0, sentHigh) have been transmitted at least once. */
        int sentHigh;

        Outgoing(int maxScatter) {
            d = new SendDescriptor(maxScatter);
        }

        void reset(int fragmentCount) {
            fragments = fragmentCount;
            acked.reset(fragmentCount);
            lost.reset(fragmentCount);
            resent.reset(fragmentCount);
            ambiguous.reset(fragmentCount);
            if (txSeq.length < fragmentCount) {
                int size = Math.max(fragmentCount, 2 * txSeq.length);
                txSeq = new long[size];
                txTime = new long[size];
                txLast = new long[size];
            }
            sentHigh = 0;
        }
    }

    /** A slot of the receive window: one message arriving into one posted buffer. */
    private static final class Incoming {
        final FragmentSet fragments = new FragmentSet();
        /** Holds a posted buffer (taken in id order). */
        boolean bound;
        ByteBuffer buffer;
        long address;
        int offset;
        int capacity;
        long cookie;
        long id;
        /** The message's length, from its first admitted fragment; -1 = nothing admitted yet. */
        int length = -1;
        boolean truncated;
        /** The sender's fragment size, learnt from a verified fragment that is not the last; 0 = unknown. */
        int unit;
        /** Fragments that verified, and their bytes. */
        int verified;
        int received;
        boolean complete;

        void take(ReceiveDescriptor r, long messageId) {
            buffer = r.buffer;
            address = r.address;
            offset = r.offset;
            capacity = r.length;
            cookie = r.cookie;
            id = messageId;
            bound = true;
            restart();
        }

        /** Forgets what arrived (the buffer stays): nothing verified, length unknown. */
        void restart() {
            length = -1;
            truncated = false;
            unit = 0;
            verified = 0;
            received = 0;
            complete = false;
        }

        void release() {
            bound = false;
            buffer = null;
            restart();
        }

        /** Fragments of the message, as the receiver counts them (1 until the fragment size is known). */
        int fragmentCount() {
            return unit == 0 ? 1 : (int) ((length + (long) unit - 1) / unit);
        }
    }

    private final ChannelServices services;
    private final ChannelState channel;
    private final EndpointState endpoint;
    private final ChannelConfig options;
    private final Workspace ws;
    private final RttEstimator rtt;
    private final long ackDelay;
    private final long keepAlive;
    private final long peerTimeout;
    private final int mtu;
    private final int checksumFlag;

    private int state = OPEN;
    /** Set by close() on the application thread: sends are refused from then on. */
    private volatile boolean closing;

    // ---- sender -------------------------------------------------------------------------------
    private final Outgoing[] window;
    private final int mask;
    /** Oldest message whose send has not completed. */
    private long base;
    /** Id of the next message to enter the window. */
    private long next;
    /** The first message that may still have fragments never sent, in [peerAck, next]. */
    private long fresh;
    /** The peer's cumulative acknowledgement: every message below it was delivered. */
    private long peerAck;
    /** Transmissions of data fragments so far: the order loss detection reasons in. */
    private long txCount;
    /** The latest transmission number any acknowledgement has covered. */
    private long highestAcked;
    /** Transmission number to (message, fragment), for the transmissions loss detection has not examined. */
    private long[] txRingId = new long[1024];
    private int[] txRingFragment = new int[1024];
    /** The next transmission number loss detection examines. */
    private long lossScan = 1;
    /** Fragments in the window's lost sets. */
    private int lostPending;
    private boolean timerArmed;
    private long timerDeadline;
    /** Retransmissions of CLOSE without its acknowledgement. */
    private int closeRetries;
    /** Since when the peer has shown no sign of life that counts (see the class comment, Liveness). */
    private long silentSince;
    /** Nothing was unacknowledged when the window took its newest send: the silence clock starts at its first fragment. */
    private boolean clockPending;
    /** When {@link #progress} last ran. */
    private long lastProgress;
    /** Transmission pauses until {@link #pausedUntil} (receiver not ready, or a pin failure). */
    private boolean paused;
    private long pausedUntil;
    private long notReadyDelay;
    private int pinFailures;
    private long closeId = -1;
    private boolean closeDue;

    // ---- receiver -----------------------------------------------------------------------------
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
    private boolean ackPending;
    private boolean ackNow;
    private long ackDue;
    private int ackFlags;
    private int unacknowledged;
    private boolean notReadyDue;
    private long notReadyId;
    private boolean closeAfterAck;
    // liveness
    private boolean established;
    private long lastHeard;
    private boolean probing;
    private int probes;
    private long probeDeadline;

    // ---- counters (engine thread; read under the engine lock) -----------------------------------
    private long messagesAcknowledged;
    private long fragmentsSent;
    private long retransmissions;
    private long timeouts;
    private long fragmentsLost;
    private long acksSent;
    private long acksReceived;
    private long notReadySent;
    private long notReadyReceived;
    private long duplicates;
    private long outOfOrder;
    private long corrupted;
    private long probesSent;
    private long rttSamples;

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
        this.ackDelay = options.ackDelay().toNanos();
        this.keepAlive = options.keepAlive().toNanos();
        this.peerTimeout = options.peerTimeout().toNanos();
        this.mtu = services.sends.mtu();
        this.checksumFlag = options.checksum() ? FrameHeader.FLAG_CHECKSUM : 0;
        int size = Integer.highestOneBit(Math.max(1, options.window() - 1)) << 1;
        this.window = new Outgoing[size];
        for (int i = 0; i < size; i++) {
            window[i] = new Outgoing(endpoint.config.maxScatter());
        }
        this.mask = size - 1;
        this.rxWindow = Math.max(1, Math.min(options.window(), Math.min(MAX_SACK_BLOCKS, mtu / SACK_BYTES)));
        int rxSize = Integer.highestOneBit(Math.max(1, rxWindow - 1)) << 1;
        this.incoming = new Incoming[rxSize];
        for (int i = 0; i < rxSize; i++) {
            incoming[i] = new Incoming();
        }
        this.rxMask = rxSize - 1;
        this.lastHeard = System.nanoTime();
        this.silentSince = lastHeard;
        this.lastProgress = lastHeard;
    }

    @Override
    public boolean isReliable() {
        return true;
    }

    @Override
    public boolean isClosing() {
        return closing;
    }

    private Outgoing slot(long id) {
        return window[(int) id & mask];
    }

    private Incoming in(long id) {
        return incoming[(int) id & rxMask];
    }

    // =============================================================================================
    // sender
    // =============================================================================================

    /**
     * Takes the send at the head of the endpoint's send queue into the window and releases its
     * queue slot. Returns false, leaving it queued, when the window is full.
     */
    @Override
    public boolean send(SendDescriptor d) {
        if (next - base >= options.window()) {
            return false;
        }
        if (d.modifiedSinceSend(services.reuseCheck)) {
            services.completions.completeQueuedSend(endpoint, d, CompletionStatus.BUFFER_MODIFIED,
                    "send buffer was modified after send() and before the NIC read it: wait for the completion");
            return true;
        }
        Outgoing o = slot(next);
        SendDescriptor w = o.d;
        w.copyFrom(d);
        w.sent = 0;
        w.messageId = next;
        o.id = next;
        o.reset(d.length == 0 ? 1 : (int) ((d.length + (long) mtu - 1) / mtu));
        if (peerAck == next) {
            clockPending = true;
        }
        next++;
        d.clear();
        endpoint.sendQueue.release();
        return true;
    }

    /** The channel's periodic work: completions, timers, transmission, acknowledgements, liveness. */
    @Override
    public int progress(long now) {
        if (state == DONE) {
            return 0;
        }
        int work = completeAcknowledged();
        long stalled = now - lastProgress - rtt.maxRto();
        lastProgress = now;
        if (stalled > 0) {
            // this engine did not run (a pause of this process, a starved NIC thread, a caller that
            // stopped calling progress): the peer cannot be blamed for a silence nobody listened to
            silentSince += stalled;
            lastHeard += stalled;
        }
        if (peerAck < next && !clockPending && now - silentSince >= peerTimeout && state != DONE) {
            fail(CompletionStatus.PEER_UNREACHABLE, "peer " + channel.remote + " acknowledged nothing for "
                    + Duration.ofNanos(now - silentSince) + " (peerTimeout " + options.peerTimeout() + ", "
                    + timeouts + " timeouts, timeout now " + Duration.ofNanos(rtt.rto())
                    + "): it closed its channel, died or is unreachable");
            return work + 1;
        }
        if (timerArmed && now - timerDeadline >= 0 && state != DONE) {
            onTimeout(now);
            work++;
        }
        if (paused && now - pausedUntil >= 0) {
            paused = false;
        }
        if (!paused && state != DONE) {
            work += sendData(now);
        }
        if (state == DRAINING) {
            work += drain(now);
        }
        if (closeDue && state == CLOSE_SENT) {
            work += sendClose(now);
        }
        if (deliveryBlocked && state != DONE) {
            work += deliverInOrder();
        }
        if (state != DONE) {
            work += flushControl(now);
        }
        if (state != DONE) {
            work += keepAlive(now);
        }
        return work;
    }

    /** Lost fragments first, oldest message first; then fragments never sent. */
    private int sendData(long now) {
        int sent = 0;
        for (long id = peerAck; lostPending > 0 && id < next; id++) {
            Outgoing o = slot(id);
            for (int f = o.lost.nextMarked(0); f >= 0; f = o.lost.nextMarked(f + 1)) {
                int result = transmitFragment(o, f, now);
                if (result <= 0) {
                    if (result < 0) {
                        onPinFailure(now);
                    }
                    return sent; // back-pressured: the rest stay marked
                }
                if (o.lost.remove(f)) { // an ack delivered during the transmit (loopback) may have taken it already
                    lostPending--;
                }
                sent++;
                if (state == DONE) {
                    return sent;
                }
            }
        }
        if (fresh < peerAck) {
            fresh = peerAck;
        }
        while (fresh < next) {
            Outgoing o = slot(fresh);
            while (o.sentHigh < o.fragments) {
                int result = transmitFragment(o, o.sentHigh, now);
                if (result <= 0) {
                    if (result < 0) {
                        onPinFailure(now);
                    }
                    return sent;
                }
                sent++;
                if (state == DONE) {
                    return sent;
                }
            }
            fresh++;
        }
        return sent;
    }

    /** 1 sent, 0 back-pressured, -1 the send buffer could not be translated. */
    private int transmitFragment(Outgoing o, int fragment, long now) {
        SendDescriptor d = o.d;
        int offset = fragment * mtu;
        int length = d.length == 0 ? 0 : Math.min(mtu, d.length - offset);
        FrameHeader h = ws.header;
        h.type = FrameHeader.TYPE_DATA;
        channel.address(h);
        h.messageId = o.id;
        h.fragmentOffset = offset;
        h.messageLength = d.length;
        h.fragmentLength = length;
        h.flags = FrameHeader.FLAG_RELIABLE | FrameHeader.FLAG_ACK | checksumFlag;
        h.ack = rxNext;
        h.checksum = checksumFlag == 0 ? 0 : payloadChecksum(d, h, offset, length);
        int result = services.sends.transmit(channel, h, endpoint, d, d, offset, length);
        if (result <= 0) {
            return result;
        }
        pinFailures = 0;
        fragmentsSent++;
        if (clockPending) {
            clockPending = false;
            silentSince = probing ? lastHeard : now; // silence counts from when there is something to acknowledge
        }
        o.txSeq[fragment] = ++txCount;
        o.txLast[fragment] = now;
        recordTransmission(o.id, fragment);
        if (fragment < o.sentHigh) {
            retransmissions++;
            o.resent.add(fragment); // Karn: its acknowledgement is ambiguous, no sample
        } else {
            o.sentHigh = fragment + 1;
            o.txTime[fragment] = now;
        }
        if (!timerArmed) {
            arm(now, rtt.rto());
        }
        acknowledgedByPiggyback();
        return 1;
    }

    /** CRC32C of the header and the fragment's bytes, read from the sender's memory as the wire will read them. */
    private int payloadChecksum(SendDescriptor d, FrameHeader h, int offset, int length) {
        FrameChecksum crc = ws.sendChecksum.start(h);
        if (length == 0) {
            return crc.value();
        }
        if (d.path == SendPath.FIXED_SEGMENT) {
            return crc.update(endpoint.segment.buffer(), d.segmentOffset + offset, length).value();
        }
        int end = offset + length;
        int entryStart = 0;
        for (int entry = 0; entry < d.count && entryStart < end; entry++) {
            int entryEnd = entryStart + d.lengths[entry];
            int from = Math.max(offset, entryStart);
            int to = Math.min(end, entryEnd);
            if (to > from) {
                crc.update(d.buffers[entry], d.offsets[entry] + from - entryStart, to - from);
            }
            entryStart = entryEnd;
        }
        return crc.value();
    }

    /** Issues the completions of messages the peer has acknowledged, oldest first, while they can be reported. */
    private int completeAcknowledged() {
        int done = 0;
        while (base < peerAck && base < next && state != DONE && slot(base).d.held == 0 && endpoint.sink.canComplete()) {
            Outgoing o = slot(base);
            base++; // before the upcall: a handler may send again
            messagesAcknowledged++;
            done++;
            SendDescriptor d = o.d;
            if (d.modifiedSinceSend(services.reuseCheck)) {
                services.completions.completeSend(endpoint, d, CompletionStatus.BUFFER_MODIFIED, "send buffer was modified before the peer"
                        + " acknowledged it (a retransmission may have sent the new bytes): the buffer is the NIC's"
                        + " until the send completes");
            } else {
                services.traffic.messageSent(d.length);
                services.completions.completeSend(endpoint, d, CompletionStatus.OK, null);
            }
        }
        return done;
    }

    private void arm(long now, long timeout) {
        timerArmed = true;
        timerDeadline = now + timeout;
    }

    /** Marks fragment {@code f} of {@code o} lost, to be sent again ahead of new data (a timeout's or NACK's resend: ambiguous). */
    private void markLost(Outgoing o, int f, boolean ambiguous) {
        if (ambiguous) {
            o.ambiguous.add(f);
        }
        if (o.lost.add(f)) {
            lostPending++;
            fragmentsLost++;
        }
    }

    private void onTimeout(long now) {
        timerArmed = false;
        if (state == CLOSE_SENT) {
            timeouts++;
            if (++closeRetries > options.maxRetransmits()) {
                finishClose("peer did not acknowledge CLOSE after " + options.maxRetransmits() + " retransmissions;"
                        + " every message had been acknowledged");
                return;
            }
            rtt.backOff();
            closeDue = true;
            arm(now, rtt.rto());
            return;
        }
        if (peerAck >= next) {
            return;
        }
        timeouts++;
        rtt.backOff();
        probeOldest();
        arm(now, rtt.rto());
    }

    /**
     * The timer expired: resend what the peer has not acknowledged of the oldest message that has
     * any such fragment (RFC 6675 §5.1: after a timeout the SACK information is not trusted to
     * have reported everything). If the oldest message is wholly selectively acknowledged and still
     * not cumulatively (the peer reneged: its posted buffer failed), forget its SACK state and
     * resend it whole. The acknowledgement of what is resent, being the newest transmission, then
     * marks older losses of later messages.
     */
    private void probeOldest() {
        for (long id = peerAck; id < next; id++) {
            Outgoing o = slot(id);
            boolean any = false;
            for (int f = 0; f < o.sentHigh; f++) {
                if (!o.acked.contains(f)) {
                    markLost(o, f, true);
                    any = true;
                }
            }
            if (any || o.sentHigh < o.fragments) {
                return; // a message never wholly sent: its new fragments go out anyway
            }
            if (id == peerAck) {
                o.acked.clear();
                for (int f = 0; f < o.fragments; f++) {
                    markLost(o, f, true);
                }
                return;
            }
        }
    }

    private void onPinFailure(long now) {
        if (++pinFailures > options.maxRetransmits()) {
            fail(CompletionStatus.PIN_FAILED, "could not translate the send buffer " + pinFailures + " times: "
                    + services.sends.transmitFailure());
            return;
        }
        paused = true;
        pausedUntil = now + rtt.rto();
        if (!timerArmed) {
            arm(now, rtt.rto());
        }
    }

    /** Acknowledged progress: the peer is alive and taking data. */
    private void progressed(long now) {
        silentSince = now;
        notReadyDelay = 0;
        if (peerAck < next) {
            arm(now, rtt.rto()); // restart the timer for what is left
        } else if (state != CLOSE_SENT) {
            timerArmed = false;
        }
    }

    /**
     * Fragment {@code f} of {@code o} is acknowledged now; returns whether that is news. Feeds
     * {@link #highestAcked} and the candidate round-trip sample (the latest-sent fragment sent once).
     */
    private boolean acknowledge(Outgoing o, int f, long now) {
        if (f >= o.sentHigh || !o.acked.add(f)) {
            return false; // never sent (a stale or confused peer) or already known
        }
        if (o.lost.remove(f)) {
            lostPending--; // it arrived after all (reordered): no need to resend
        }
        boolean resent = o.resent.contains(f);
        if (resent && (o.ambiguous.contains(f) || minRtt == Long.MAX_VALUE || now - o.txLast[f] < minRtt)) {
            // which of its sends arrived is unknown: taking the latest would declare everything sent
            // since the earlier one lost, and the retransmissions would cascade. A fragment resent
            // because later ones were acknowledged past it was lost (the path keeps order within the
            // reordering threshold), so its acknowledgement answers the resend, unless it came
            // sooner after the resend than any round trip takes (RFC 8985 §6.2)
            return true;
        }
        long seq = o.txSeq[f];
        if (seq > highestAcked) {
            highestAcked = seq;
            sampleAt = resent ? -1 : o.txTime[f]; // Karn: never a sample from a resent fragment
        }
        return true;
    }

    /** The send time of the fragment whose acknowledgement gives this ack frame's sample; -1 = none. */
    private long sampleAt = -1;
    /** The smallest round-trip sample yet (RFC 8985's min_RTT); MAX_VALUE before the first. */
    private long minRtt = Long.MAX_VALUE;
    private long highestBefore;

    private void beginAckFrame() {
        sampleAt = -1;
        highestBefore = highestAcked;
    }

    /** After an ack frame: take its round-trip sample, if it has one, and detect losses if it acknowledged anything new. */
    private void endAckFrame(long now, long coveredEnd, boolean news) {
        if (highestAcked > highestBefore && sampleAt >= 0) {
            long sample = now - sampleAt;
            rtt.sample(sample);
            rttSamples++;
            minRtt = Math.min(minRtt, sample);
        }
        if (news) {
            detectLosses(coveredEnd);
        }
    }

    /**
     * A verified cumulative acknowledgement from the peer (on any frame). Returns whether it
     * moved; the messages it passes are wholly acknowledged.
     */
    private boolean onAck(long ack, long now) {
        if (ack <= peerAck) {
            return false;
        }
        long limit = state == CLOSE_SENT ? closeId + 1 : next;
        if (ack > limit) {
            return false; // acknowledges what was never sent: a stale peer; ignore
        }
        for (long id = peerAck; id < Math.min(ack, next); id++) {
            Outgoing o = slot(id);
            for (int f = 0; f < o.sentHigh; f++) {
                acknowledge(o, f, now);
            }
            o.lost.clear();
        }
        lostPending = 0;
        for (long id = ack; id < next; id++) {
            lostPending += slot(id).lost.count();
        }
        peerAck = ack;
        if (fresh < ack) {
            fresh = ack;
        }
        progressed(now);
        if (state == CLOSE_SENT && ack > closeId) {
            completeAcknowledged();
            finishClose(null);
            return true;
        }
        completeAcknowledged();
        return true;
    }

    /** A verified piggybacked acknowledgement on a DATA frame: cumulative only, so no loss is judged from it. */
    private void onPiggybackAck(long ack, long now) {
        beginAckFrame();
        onAck(ack, now);
        if (state != DONE) {
            endAckFrame(now, peerAck, false);
            skipAcknowledged();
        }
    }

    /** Moves the loss scan past transmissions that are acknowledged, so piggybacked traffic keeps the ring short. */
    private void skipAcknowledged() {
        for (; lossScan <= txCount; lossScan++) {
            int at = (int) lossScan & (txRingId.length - 1);
            long id = txRingId[at];
            if (id >= peerAck) {
                Outgoing o = slot(id);
                int f = txRingFragment[at];
                if (o.txSeq[f] == lossScan && !o.acked.contains(f)) {
                    return;
                }
            }
        }
    }

    /** A stand-alone ACK: its cumulative ack, then its SACK blocks (in {@code ws.ackIn}). */
    private void onAckFrame(long ack, int sackBytes, long now) {
        beginAckFrame();
        boolean news = onAck(ack, now);
        if (state == DONE) {
            return;
        }
        long coveredEnd = peerAck;
        if (ack == peerAck && sackBytes > 0) {
            ByteBuffer block = ws.ackIn.buffer();
            boolean sackNews = false;
            for (int at = 0; at < sackBytes; at += SACK_BYTES) {
                int prefix = block.getInt(at + SACK_PREFIX_OFFSET);
                int delta = block.getInt(at + SACK_MESSAGE_OFFSET);
                long bitmap = block.getLong(at + SACK_BITMAP_OFFSET);
                long id = ack + delta;
                if (delta < 0 || id >= next || prefix < 0) {
                    malformed();
                    break;
                }
                Outgoing o = slot(id);
                int upTo = Math.min(prefix, o.fragments);
                for (int f = o.acked.firstMissing(); f < upTo; f++) {
                    sackNews |= acknowledge(o, f, now);
                }
                for (long bits = bitmap & ~o.acked.window(prefix + 1); bits != 0; bits &= bits - 1) {
                    sackNews |= acknowledge(o, prefix + 1 + Long.numberOfTrailingZeros(bits), now);
                }
                coveredEnd = id + 1;
            }
            if (sackNews) {
                news = true;
                progressed(now); // the peer is taking fragments
            }
        }
        endAckFrame(now, coveredEnd, news);
    }

    /**
     * Loss detection across the window (RFC 9002 §6.1.1, by transmission number), run on every
     * stand-alone ACK (a piggybacked ack carries no SACK blocks, so it cannot say what is missing):
     * a fragment sent and not acknowledged is lost when a fragment sent {@link #REORDER_THRESHOLD}
     * transmissions later has been acknowledged. The transmissions are examined once each, in
     * order, from the ring {@link #txRingId}/{@link #txRingFragment}; one superseded by a later
     * send of the same fragment is skipped (that send is examined in its turn). A fragment past
     * the bitmap of its message's SACK block (messages of more than 65 fragments) cannot be
     * reported, so it is not judged here: the timer resends it.
     */
    private void detectLosses(long coveredEnd) {
        long threshold = highestAcked - REORDER_THRESHOLD;
        for (; lossScan <= threshold && lossScan <= txCount; lossScan++) {
            int at = (int) lossScan & (txRingId.length - 1);
            long id = txRingId[at];
            if (id < peerAck) {
                continue;
            }
            Outgoing o = slot(id);
            int f = txRingFragment[at];
            if (o.txSeq[f] != lossScan || o.acked.contains(f)) {
                continue;
            }
            if (id < coveredEnd && f > o.acked.firstMissing() + 64) {
                continue;
            }
            markLost(o, f, false);
        }
    }

    /** Records transmission {@link #txCount} in the ring, growing it when more transmissions are unexamined than it holds. */
    private void recordTransmission(long id, int fragment) {
        if (lossScan < txCount - txRingId.length + 1) {
            if (txRingId.length < MAX_TX_RING) {
                growRing();
            } else {
                lossScan = txCount - txRingId.length + 1; // the oldest are left to the timer
            }
        }
        int at = (int) txCount & (txRingId.length - 1);
        txRingId[at] = id;
        txRingFragment[at] = fragment;
    }

    private void growRing() {
        long[] ids = new long[txRingId.length * 2];
        int[] fragments = new int[ids.length];
        for (long seq = Math.max(lossScan, 1); seq < txCount; seq++) {
            int from = (int) seq & (txRingId.length - 1);
            int to = (int) seq & (ids.length - 1);
            ids[to] = txRingId[from];
            fragments[to] = txRingFragment[from];
        }
        txRingId = ids;
        txRingFragment = fragments;
    }

    /** The peer had no buffer (or no completion room) for message {@code id}: pause, then resend what it refused. */
    private void onNotReady(long id, long ack, long now) {
        if (id < peerAck || id >= next || ack < peerAck) {
            return; // stale, or from a peer that lost this channel's sequence (restarted): no sign of life
        }
        notReadyReceived++;
        silentSince = now; // alive and answering, only out of buffers: not a reason to give up
        notReadyDelay = notReadyDelay == 0 ? rtt.minRto() : Math.min(2 * notReadyDelay, rtt.maxRto());
        paused = true;
        pausedUntil = now + notReadyDelay;
        for (long m = id; m < next; m++) {
            Outgoing o = slot(m);
            for (int f = 0; f < o.sentHigh; f++) {
                if (!o.acked.contains(f)) {
                    markLost(o, f, true);
                }
            }
        }
        arm(now, notReadyDelay + rtt.rto());
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
        if (base < next || queuedSends()) {
            return 0;
        }
        state = CLOSE_SENT;
        closeId = next;
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
        FrameHeader h = control(FrameHeader.TYPE_CLOSE, closeId, 0);
        if (!transmitControl(h, 0)) {
            return 0;
        }
        closeDue = false;
        if (!timerArmed) {
            arm(now, rtt.rto());
        }
        return 1;
    }

    private void finishClose(String detail) {
        fail(CompletionStatus.CLOSED, detail == null ? "channel closed" : detail);
    }

    /**
     * Ends the channel: the NIC closes it (tag freed, the message arriving completes with
     * {@code status}) and calls back {@link #abandon}, which completes the window.
     */
    private void fail(CompletionStatus status, String detail) {
        if (state == DONE) {
            return;
        }
        if (status == CompletionStatus.PEER_UNREACHABLE) { // what an operator must know; once per channel
            LOG.warn("reliable channel {} declared its peer unreachable: {}", channel, detail);
        }
        services.close(channel, status, detail);
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
        timerArmed = false;
        while (base < next) {
            Outgoing o = slot(base);
            boolean delivered = base < peerAck;
            base++;
            if (delivered) {
                messagesAcknowledged++;
                services.traffic.messageSent(o.d.length);
                services.completions.completeSend(endpoint, o.d, CompletionStatus.OK, null);
            } else {
                services.completions.completeSend(endpoint, o.d, status, detail);
            }
        }
        fresh = next;
        lostPending = 0;
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

    /** Refuses freeing memory a send in the window still reads, or a posted buffer the receive window holds (DESIGN §3). */
    @Override
    public void refuseFreeInFlight(long address, long length) {
        for (long id = base; id < next; id++) {
            SendDescriptor d = slot(id).d;
            FreeGuard.refuseIfSendOverlaps(address, length, d, "a reliable send not yet acknowledged");
        }
        for (Incoming r : incoming) {
            if (r.bound) {
                FreeGuard.refuseIfOverlaps(address, length, r.address + r.offset, r.capacity, "a message arriving now");
            }
        }
    }

    // =============================================================================================
    // receiver
    // =============================================================================================

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

    /** A frame for this channel from the copy-in path (loopback): the NIC pulls the payload itself. */
    @Override
    public void deliver(FrameHeader h, PayloadSource payload, long now) {
        if (h.type != FrameHeader.TYPE_DATA) {
            if (!sackLengthValid(h.fragmentLength)) {
                malformed();
                return;
            }
            if (h.fragmentLength > 0) {
                payload.copyTo(0, ws.ackIn.buffer(), 0, h.fragmentLength);
            }
            onControl(h, now);
            return;
        }
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

    private static boolean sackLengthValid(int length) {
        return length >= 0 && length % SACK_BYTES == 0 && length <= MAX_SACK_BLOCKS * SACK_BYTES;
    }

    /** The placement path (udp): where the payload goes, or false to discard it (dropped, or a control frame handled). */
    @Override
    public boolean claim(FrameHeader h, Placement placement, long now) {
        if (h.type != FrameHeader.TYPE_DATA) {
            if (h.fragmentLength == 0) {
                onControl(h, now);
                return false;
            }
            if (!sackLengthValid(h.fragmentLength)) {
                malformed();
                return false;
            }
            fill(placement, ws.ackIn, 0, h.fragmentLength);
            return true;
        }
        if (!admit(h, now)) {
            return false;
        }
        if (rxToOverflow) {
            fill(placement, ws.overflow, 0, h.fragmentLength);
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

    /** The payload of the frame last claimed has been written. */
    @Override
    public void commit(FrameHeader h, long now) {
        if (h.type != FrameHeader.TYPE_DATA) {
            onControl(h, now);
        } else {
            placed(h, now);
        }
    }

    private static void fill(Placement placement, BufferPayload into, int index, int length) {
        placement.buffer = into.buffer();
        placement.index = index;
        placement.address = into.address() + index;
        placement.length = length;
    }

    private void malformed() {
        services.drops.drop(DropReason.MALFORMED);
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
            duplicates++;
            services.drops.drop(DropReason.DUPLICATE);
            ackNow = true;
            return false;
        }
        if (id >= rxNext + rxWindow) {
            outOfOrder++;
            services.drops.drop(DropReason.OUT_OF_ORDER);
            ackNow = true;
            ackFlags |= FrameHeader.FLAG_OUT_OF_ORDER;
            return false;
        }
        Incoming r = in(id);
        if (!r.bound && !bindUpTo(id)) {
            return false;
        }
        if (r.complete) {
            duplicates++;
            services.drops.drop(DropReason.DUPLICATE);
            ackNow = true;
            if (deliveryBlocked) {
                notReady(rxNext);
            }
            return false;
        }
        if (h.messageLength != r.length) {
            if (r.verified > 0) {
                malformed();
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
                outOfOrder++; // the last fragment, before the fragment size is known: it comes again
                services.drops.drop(DropReason.OUT_OF_ORDER);
                return false;
            }
            if (length == 0 || offset % unit != 0 || (last ? length > unit : length != unit)) {
                malformed();
                return false;
            }
            if (r.unit != 0 && r.fragments.contains(offset / unit)) {
                duplicates++;
                services.drops.drop(DropReason.DUPLICATE);
                ackNow = true;
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
                notReady(m);
                return false;
            }
            ReceiveDescriptor d = endpoint.freeQueue.peek();
            if (d == null) {
                services.drops.drop(DropReason.NO_BUFFER);
                notReady(m);
                return false;
            }
            r.take(d, m);
            d.buffer = null;
            endpoint.freeQueue.release();
        }
        return true;
    }

    /** The fragment admitted last is in place: verify it, then count it, acknowledge it, maybe deliver messages. */
    private void placed(FrameHeader h, long now) {
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
                corrupted++;
                services.drops.drop(DropReason.CORRUPT);
                return;
            }
        }
        heard(now);
        if ((h.flags & FrameHeader.FLAG_ACK) != 0) {
            onPiggybackAck(h.ack, now);
            if (state == DONE || !r.bound) {
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
        unacknowledged++;
        ackPending = true;
        if (unacknowledged >= 2) {
            ackNow = true;
        } else if (unacknowledged == 1) {
            ackDue = now + ackDelay;
        }
        if (r.received == n) {
            r.complete = true;
            if (r.id == rxNext) {
                deliverInOrder();
            }
        }
    }

    /** Completes the receives of complete messages at the head of the window, in id order, while they can be reported. */
    private int deliverInOrder() {
        int done = 0;
        boolean wasBlocked = deliveryBlocked;
        deliveryBlocked = false;
        while (state != DONE) {
            Incoming r = in(rxNext);
            if (!r.bound || !r.complete || r.id != rxNext) {
                break;
            }
            if (!endpoint.sink.canComplete()) {
                deliveryBlocked = true;
                if (!wasBlocked) {
                    notReady(rxNext); // once; again whenever the sender retransmits meanwhile
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

    private void notReady(long id) {
        notReadyDue = true;
        notReadyId = id;
    }

    /** ACK, NACK or CLOSE: verified, then acted on. Its SACK blocks, if any, are in {@code ws.ackIn}. */
    private void onControl(FrameHeader h, long now) {
        int length = h.fragmentLength;
        if ((h.flags & FrameHeader.FLAG_CHECKSUM) != 0) {
            FrameChecksum crc = ws.receiveChecksum.start(h);
            if (length > 0) {
                crc.update(ws.ackIn.buffer(), 0, length);
            }
            if (crc.value() != h.checksum) {
                corrupted++;
                services.drops.drop(DropReason.CORRUPT);
                return;
            }
        }
        heard(now);
        if (h.type == FrameHeader.TYPE_ACK) {
            acksReceived++;
            if ((h.flags & FrameHeader.FLAG_ACK) != 0) {
                onAckFrame(h.ack, length, now);
                if (state == DONE) {
                    return;
                }
            }
            if ((h.flags & FrameHeader.FLAG_PROBE) != 0) {
                ackNow = true;
            }
            return;
        }
        if ((h.flags & FrameHeader.FLAG_ACK) != 0) {
            onPiggybackAck(h.ack, now);
            if (state == DONE) {
                return;
            }
        }
        switch (h.type) {
            case FrameHeader.TYPE_NACK -> onNotReady(h.messageId, h.ack, now);
            case FrameHeader.TYPE_CLOSE -> onPeerClose(h.messageId);
            default -> malformed();
        }
    }

    private void onPeerClose(long id) {
        if (id < rxNext) {
            ackNow = true;
            return;
        }
        if (id > rxNext || in(rxNext).bound) {
            outOfOrder++;
            services.drops.drop(DropReason.OUT_OF_ORDER);
            ackNow = true;
            ackFlags |= FrameHeader.FLAG_OUT_OF_ORDER;
            return;
        }
        rxNext = id + 1;
        rxHigh = rxNext;
        ackNow = true;
        closeAfterAck = true;
    }

    /**
     * A verified frame from the peer: it is alive, so keep-alive probing stops. It does not count
     * as progress: only acknowledgements (or an explicit receiver-not-ready) do, so a peer that
     * answers but never acknowledges (it restarted and lost this channel's sequence) is still given
     * up on after {@code peerTimeout}.
     */
    private void heard(long now) {
        lastHeard = now;
        established = true;
        probing = false;
        probes = 0;
    }

    /** Cumulative ack just rode on a DATA frame: a pending stand-alone ack is not needed unless it says more. */
    private void acknowledgedByPiggyback() {
        boolean saysMore = ackFlags != 0 || rxHigh > rxNext || closeAfterAck || deliveryBlocked;
        if (!saysMore) {
            ackPending = false;
            ackNow = false;
            unacknowledged = 0;
        }
    }

    // =============================================================================================
    // control frames out
    // =============================================================================================

    private int flushControl(long now) {
        int work = 0;
        if (notReadyDue) {
            FrameHeader h = control(FrameHeader.TYPE_NACK, notReadyId, 0);
            if (transmitControl(h, 0)) {
                notReadyDue = false;
                notReadySent++;
                work++;
            }
        }
        if (ackNow || (ackPending && now - ackDue >= 0)) {
            work += sendAck(0);
        }
        return work;
    }

    /** Writes one SACK block for every message from the expected one up to the last one anything arrived for. */
    private int sackBlocks() {
        ByteBuffer block = ws.ackOut.buffer();
        int at = 0;
        for (long id = rxNext; id < rxHigh && id < rxNext + rxWindow; id++) {
            Incoming r = in(id);
            int prefix = 0;
            long bitmap = 0;
            if (r.bound && r.id == id) {
                if (r.complete) {
                    prefix = r.fragmentCount();
                } else if (r.unit != 0) {
                    prefix = r.fragments.firstMissing();
                    bitmap = r.fragments.window(prefix + 1);
                }
            }
            block.putInt(at + SACK_PREFIX_OFFSET, prefix);
            block.putInt(at + SACK_MESSAGE_OFFSET, (int) (id - rxNext));
            block.putLong(at + SACK_BITMAP_OFFSET, bitmap);
            at += SACK_BYTES;
        }
        return at;
    }

    private int sendAck(int extraFlags) {
        int sack = sackBlocks();
        FrameHeader h = control(FrameHeader.TYPE_ACK, rxNext, sack);
        h.flags |= ackFlags | extraFlags;
        if (!transmitControl(h, sack)) {
            return 0;
        }
        if ((extraFlags & FrameHeader.FLAG_PROBE) != 0) {
            probesSent++;
        } else {
            acksSent++;
        }
        ackPending = false;
        ackNow = false;
        ackFlags = 0;
        unacknowledged = 0;
        if (closeAfterAck) {
            closeAfterAck = false;
            LOG.info("reliable channel {} closed by its peer", channel);
            fail(CompletionStatus.CLOSED, "peer closed the channel");
        }
        return 1;
    }

    private FrameHeader control(int type, long messageId, int payload) {
        FrameHeader h = ws.header;
        h.type = type;
        channel.address(h);
        h.messageId = messageId;
        h.fragmentOffset = 0;
        h.messageLength = payload;
        h.fragmentLength = payload;
        h.flags = FrameHeader.FLAG_RELIABLE | FrameHeader.FLAG_ACK | checksumFlag;
        h.ack = rxNext;
        return h;
    }

    private boolean transmitControl(FrameHeader h, int payload) {
        BufferPayload body = ws.ackOut.length(payload);
        if (checksumFlag != 0) {
            FrameChecksum crc = ws.sendChecksum.start(h);
            if (payload > 0) {
                crc.update(body.buffer(), 0, payload);
            }
            h.checksum = crc.value();
        } else {
            h.checksum = 0;
        }
        return services.sends.transmitControl(channel, h, body);
    }

    private int keepAlive(long now) {
        if (keepAlive == 0 || !established || !channel.isConnected() || peerAck < next || state == CLOSE_SENT) {
            return 0; // data in flight: the retransmission timer and peerTimeout watch the peer
        }
        if (!probing) {
            if (now - lastHeard < keepAlive) {
                return 0;
            }
            probing = true;
            probes = 0;
        } else if (now - lastHeard >= peerTimeout) {
            fail(CompletionStatus.PEER_UNREACHABLE, "peer " + channel.remote + " answered none of " + probes
                    + " keep-alive probes in " + Duration.ofNanos(now - lastHeard) + " of silence (peerTimeout "
                    + options.peerTimeout() + "): it closed its channel, died or is unreachable");
            return 1;
        } else if (now - probeDeadline < 0) {
            return 0;
        } else {
            probes++;
            timeouts++;
        }
        if (sendAck(FrameHeader.FLAG_PROBE) == 0) {
            return 0;
        }
        probeDeadline = now + Math.min(rtt.maxRto(), rtt.rto() << Math.min(probes, 20));
        return 1;
    }

    // =============================================================================================

    /** A fragment the wire held is released: the send at the window's base may complete now. */
    @Override
    public void released(SendDescriptor d) {
        if (d.held == 0 && state != DONE) {
            completeAcknowledged();
        }
    }

    @Override
    public ReliableStats stats() {
        return new ReliableStats(messagesAcknowledged, fragmentsSent, retransmissions, timeouts, fragmentsLost, acksSent,
                acksReceived, notReadySent, notReadyReceived, duplicates, outOfOrder, corrupted, probesSent,
                rttSamples, Duration.ofNanos(rtt.srtt()), Duration.ofNanos(rtt.rttvar()), Duration.ofNanos(rtt.rto()),
                (int) (next - base));
    }
}
