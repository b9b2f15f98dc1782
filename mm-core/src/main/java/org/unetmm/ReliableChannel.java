package org.unetmm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import org.unetmm.internal.BufferPayload;
import org.unetmm.internal.FragmentSet;
import org.unetmm.internal.FrameChecksum;
import org.unetmm.internal.RttEstimator;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.PayloadSource;
import org.unetmm.spi.Placement;

/**
 * The reliable protocol of one channel ({@link ChannelOptions#reliable()}), both directions, on
 * any wire. U-Net is unreliable; this is the layer the NIC adds so a zero-copy sender can know
 * when its buffer is free again: when the peer has acknowledged every fragment of it.
 *
 * <h2>Sequence and delivery</h2>
 * Every message sent on the channel takes the next message id, from 0. The receiver keeps one
 * reassembly at a time (the channel's posted buffer) and accepts message ids strictly in order:
 * <ul>
 *   <li>{@code id < expected}: a duplicate of a delivered message; dropped, and acknowledged at once
 *       (its acknowledgement was lost);</li>
 *   <li>{@code id > expected}: a later message while an earlier one is missing; dropped, and
 *       acknowledged at once with {@link FrameHeader#FLAG_OUT_OF_ORDER}, so the sender goes back
 *       to the missing message without waiting for its timer (fast retransmit, go-back-N over
 *       messages);</li>
 *   <li>{@code id == expected}: its fragments are accepted in any order and placed by offset. The
 *       sender's fragment size is learnt from any fragment but the last (they all have it), and
 *       the last fragment of a multi-fragment message is taken once it is known. A bitmap of
 *       fragments received makes duplicate suppression exact: an accepted fragment is never
 *       written again. A fragment counts only once its checksum verified.</li>
 * </ul>
 * No posted buffer (or a full completion queue): the first fragment is not accepted and not
 * acknowledged; a receiver-not-ready NACK (as InfiniBand's RNR NAK) tells the sender to pause
 * and retry without counting it against the peer's liveness.
 *
 * <h2>Frames</h2>
 * <pre>
 *  DATA   flags RELIABLE|ACK[|CHECKSUM]  messageId, fragment offset/length, message length as any
 *         fragment; ack = the cumulative acknowledgement of the reverse direction (piggyback)
 *  ACK    flags RELIABLE|ACK[|CHECKSUM][|PROBE][|OUT_OF_ORDER]  ack = messageId = next id expected;
 *         payload: nothing, or the 16-byte selective-ack block of the message in progress:
 *           0                   1                   2                   3
 *           0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *          +---------------------------------------------------------------+
 *          |  prefix: fragments 0 .. prefix-1 received (prefix is missing)  |  0
 *          +---------------------------------------------------------------+
 *          |                     reserved (0)                              |  4
 *          +---------------------------------------------------------------+
 *          |  bitmap: bit i set = fragment prefix+1+i received (LE long)    |  8
 *          |                                                               |
 *          +---------------------------------------------------------------+
 *  NACK   flags RELIABLE|ACK[|CHECKSUM]  messageId = the message refused: receiver not ready
 *  CLOSE  flags RELIABLE|ACK[|CHECKSUM]  messageId = the id after the last message: sequenced
 *         behind every message, delivered in order, acknowledged, then both ends close
 * </pre>
 * With {@link ChannelOptions#checksum()} every frame carries the CRC32C of its header fields and
 * payload ({@link FrameChecksum}); a frame that fails is dropped, counted ({@link DropReason#CORRUPT})
 * and never acknowledged, so it is sent again. The piggybacked ack of a DATA frame is believed
 * only once the frame verified.
 *
 * <h2>Acknowledgements and the sender</h2>
 * An accepted fragment makes an acknowledgement due within {@link ChannelOptions#ackDelay()}, so a
 * reply sent meanwhile carries it instead (an RPC's response acknowledges its request); every
 * second fragment, a duplicate, an out-of-order frame or a probe is acknowledged at once. The
 * sender keeps up to {@link ChannelOptions#window()} messages in flight: a send leaves the
 * endpoint's send queue for a window slot (a copy of its descriptor; the buffer stays where it
 * is) and completes only when the peer's cumulative acknowledgement passes it. Until then its
 * buffer is the NIC's: a retransmission reads the user's memory again, through the TLB.
 *
 * <h2>Timers (driven by {@link Nic#progress()})</h2>
 * One retransmission timer per channel, armed while anything is unacknowledged, with the timeout
 * of {@link RttEstimator} (RFC 6298, Karn's rule: one never-retransmitted fragment is timed at a
 * time). On expiry: back off (double), go back to the oldest unacknowledged message and resend
 * its missing fragments and everything after it. A peer that has been heard from and then falls
 * silent for {@link ChannelOptions#keepAlive()} is probed (an ACK with {@code PROBE}), the probe
 * retried on the same back-off. {@link ChannelOptions#maxRetransmits()} expiries in a row without
 * acknowledged progress (new fragments or messages acknowledged, or a receiver-not-ready NACK; a
 * peer that answers but never acknowledges — restarted, its sequence lost — does not count as
 * progress), or as many unanswered probes: every send in the window, the message arriving and every send
 * still queued for the channel complete with {@link CompletionStatus#PEER_UNREACHABLE}, and the
 * channel closes.
 *
 * <h2>Close</h2>
 * {@link Channel#close()} is orderly: no new sends; queued and in-flight sends are delivered and
 * acknowledged; then CLOSE is sent and retransmitted until acknowledged (or the retries run out),
 * and the channel closes. The peer acknowledges CLOSE and closes its end; its sends not yet
 * acknowledged complete {@link CompletionStatus#CLOSED}. Endpoint and NIC close are abrupt: every
 * pending operation completes CLOSED at once.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>Every send completes exactly once; with OK only after the peer's cumulative ack passed it,
 *       and its buffer is not read after that completion.</li>
 *   <li>Every message is delivered at most once, in id order, and only bytes that verified count.</li>
 *   <li>Nothing is allocated per frame: window slots, bitmaps and the workspace are made up front
 *       (bitmaps grow only for a message with more fragments than any before it).</li>
 *   <li>Every method runs under the NIC's engine lock (NIC thread or the caller's progress), and
 *       nothing transmits from the receive path: acknowledgements due are sent by {@link #progress}.</li>
 * </ol>
 */
final class ReliableChannel {
    /** Bytes of the selective-ack block an ACK may carry. */
    static final int SACK_BYTES = 16;
    private static final long PAGE = NativeMemory.pageSize();

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
        final BufferPayload ackOut = new BufferPayload(ByteBuffer.allocateDirect(SACK_BYTES).order(ByteOrder.LITTLE_ENDIAN));
        final BufferPayload ackIn = new BufferPayload(ByteBuffer.allocateDirect(SACK_BYTES).order(ByteOrder.LITTLE_ENDIAN));
        /** Where a fragment of a message longer than its posted buffer lands to be verified (made on first use). */
        BufferPayload overflow;

        BufferPayload overflow(int length) {
            if (overflow == null || overflow.capacity() < length) {
                overflow = new BufferPayload(Math.max(length, 64 * 1024));
            }
            return overflow;
        }
    }

    /** A send in the window: a copy of its descriptor and which of its fragments the peer has. */
    private static final class Outgoing {
        final Endpoint.SendDescriptor d;
        final FragmentSet acked = new FragmentSet();
        long id;
        int fragments;
        /** Next fragment to (re)transmit in the current pass over the window. */
        int cursor;
        /** Fragments [0, sentHigh) have been transmitted at least once. */
        int sentHigh;
        /** Fragments [0, ackedPrefix) are known acknowledged (the selective acks' prefix). */
        int ackedPrefix;

        Outgoing(int maxScatter) {
            d = new Endpoint.SendDescriptor(maxScatter);
        }
    }

    private final Nic nic;
    private final Channel channel;
    private final Endpoint endpoint;
    private final ChannelOptions options;
    private final Workspace ws;
    private final RttEstimator rtt;
    private final long ackDelay;
    private final long keepAlive;
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
    /** The message the transmit pass is on, in [base, next]. */
    private long cursor;
    /** The peer's cumulative acknowledgement: every message below it was delivered. */
    private long peerAck;
    private boolean timerArmed;
    private long timerDeadline;
    /** Consecutive retransmission timeouts without acknowledged progress (or a receiver-not-ready NACK). */
    private int retries;
    /** The cumulative ack the last go-back answered: one go-back per out-of-order episode. */
    private long goBackAck = -1;
    /** Transmission pauses until {@link #pausedUntil} (receiver not ready, or a pin failure). */
    private boolean paused;
    private long pausedUntil;
    private long notReadyDelay;
    private int pinFailures;
    /** The one fragment being timed for a round-trip sample; -1 = none. */
    private long timedMessage = -1;
    private int timedFragment;
    private long timedAt;
    private long closeId = -1;
    private boolean closeDue;

    // ---- receiver -----------------------------------------------------------------------------
    /** Next message id expected: the cumulative acknowledgement this end sends. */
    private long rxNext;
    private final FragmentSet rxFragments = new FragmentSet();
    /** The sender's fragment size, learnt from a verified fragment that is not the last; 0 = unknown. */
    private int rxUnit;
    /** Fragments of the message in progress that verified. */
    private int rxVerified;
    /** Where the fragment being placed goes: true = the overflow scratch, then its head is copied in. */
    private boolean rxToOverflow;
    private int rxInside;
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
    private long goBacks;
    private long acksSent;
    private long acksReceived;
    private long notReadySent;
    private long notReadyReceived;
    private long duplicates;
    private long outOfOrder;
    private long corrupted;
    private long probesSent;

    ReliableChannel(Nic nic, Channel channel, ChannelOptions options, Workspace workspace) {
        this.nic = nic;
        this.channel = channel;
        this.endpoint = channel.endpoint;
        this.options = options;
        this.ws = workspace;
        this.rtt = new RttEstimator(options.initialRto().toNanos(), options.minRto().toNanos(), options.maxRto().toNanos());
        this.ackDelay = options.ackDelay().toNanos();
        this.keepAlive = options.keepAlive().toNanos();
        this.mtu = nic.mtu();
        this.checksumFlag = options.checksum() ? FrameHeader.FLAG_CHECKSUM : 0;
        int size = Integer.highestOneBit(Math.max(1, options.window() - 1)) << 1;
        this.window = new Outgoing[size];
        for (int i = 0; i < size; i++) {
            window[i] = new Outgoing(endpoint.config.maxScatter());
        }
        this.mask = size - 1;
        this.lastHeard = System.nanoTime();
    }

    boolean isClosing() {
        return closing;
    }

    private Outgoing slot(long id) {
        return window[(int) id & mask];
    }

    // =============================================================================================
    // sender
    // =============================================================================================

    /**
     * Takes the send at the head of the endpoint's send queue into the window and releases its
     * queue slot. Returns false, leaving it queued, when the window is full.
     */
    boolean offer(Endpoint.SendDescriptor d) {
        if (next - base >= options.window()) {
            return false;
        }
        if (d.path == SendPath.PINNED && nic.config().reuseCheck() && Endpoint.checksum(d) != d.checksum) {
            nic.completeSend(endpoint, d, CompletionStatus.BUFFER_MODIFIED,
                    "send buffer was modified after send() and before the NIC read it: wait for the completion");
            return true;
        }
        Outgoing o = slot(next);
        Endpoint.SendDescriptor w = o.d;
        w.channel = d.channel;
        w.path = d.path;
        w.cookie = d.cookie;
        for (int i = 0; i < d.count; i++) {
            w.buffers[i] = d.buffers[i];
            w.offsets[i] = d.offsets[i];
            w.lengths[i] = d.lengths[i];
            w.addresses[i] = d.addresses[i];
        }
        w.count = d.count;
        w.length = d.length;
        w.segmentOffset = d.segmentOffset;
        w.segmentConsumed = d.segmentConsumed;
        w.segmentTicket = d.segmentTicket;
        w.checksum = d.checksum;
        w.sent = 0;
        w.messageId = next;
        o.id = next;
        o.fragments = d.length == 0 ? 1 : (int) ((d.length + (long) mtu - 1) / mtu);
        o.acked.reset(o.fragments);
        o.cursor = 0;
        o.sentHigh = 0;
        o.ackedPrefix = 0;
        next++;
        d.clear();
        endpoint.sendQueue.release();
        return true;
    }

    /** The channel's periodic work: completions, timers, transmission, acknowledgements, keep-alive. */
    int progress(long now) {
        if (state == DONE) {
            return 0;
        }
        int work = completeAcknowledged();
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
        if (state != DONE) {
            work += flushControl(now);
        }
        if (state != DONE) {
            work += keepAlive(now);
        }
        return work;
    }

    private int sendData(long now) {
        int sent = 0;
        while (cursor < next) {
            if (cursor < peerAck) {
                cursor++;
                continue;
            }
            Outgoing o = slot(cursor);
            while (o.cursor < o.fragments) {
                int fragment = o.cursor;
                if (!o.acked.contains(fragment)) {
                    int result = transmitFragment(o, fragment, now);
                    if (result == 0) {
                        return sent; // back-pressured: resume at this fragment
                    }
                    if (result < 0) {
                        onPinFailure(now);
                        return sent;
                    }
                    sent++;
                    if (state == DONE) {
                        return sent;
                    }
                }
                o.cursor++;
            }
            cursor++;
        }
        return sent;
    }

    /** 1 sent, 0 back-pressured, -1 the send buffer could not be translated. */
    private int transmitFragment(Outgoing o, int fragment, long now) {
        Endpoint.SendDescriptor d = o.d;
        int offset = fragment * mtu;
        int length = d.length == 0 ? 0 : Math.min(mtu, d.length - offset);
        FrameHeader h = ws.header;
        h.type = FrameHeader.TYPE_DATA;
        h.sourceTag = channel.localTag;
        h.destinationTag = channel.remoteTag;
        h.sourceConnection = channel.connectionId;
        h.destinationConnection = channel.remoteConnection;
        h.messageId = o.id;
        h.fragmentOffset = offset;
        h.messageLength = d.length;
        h.fragmentLength = length;
        h.flags = FrameHeader.FLAG_RELIABLE | FrameHeader.FLAG_ACK | checksumFlag;
        h.ack = rxNext;
        h.checksum = checksumFlag == 0 ? 0 : payloadChecksum(d, h, offset, length);
        int result = nic.transmitFragment(channel, h, endpoint, d, offset, length);
        if (result <= 0) {
            return result;
        }
        pinFailures = 0;
        fragmentsSent++;
        if (fragment < o.sentHigh) {
            retransmissions++;
            if (timedMessage == o.id && timedFragment == fragment) {
                timedMessage = -1; // Karn: an ambiguous sample is no sample
            }
        } else {
            o.sentHigh = fragment + 1;
            if (timedMessage < 0) {
                timedMessage = o.id;
                timedFragment = fragment;
                timedAt = now;
            }
        }
        if (!timerArmed) {
            arm(now, rtt.rto());
        }
        acknowledgedByPiggyback();
        return 1;
    }

    /** CRC32C of the header and the fragment's bytes, read from the sender's memory as the wire will read them. */
    private int payloadChecksum(Endpoint.SendDescriptor d, FrameHeader h, int offset, int length) {
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
        while (base < peerAck && base < next && state != DONE && nic.canComplete(endpoint)) {
            Outgoing o = slot(base);
            base++; // before the upcall: a handler may send again
            messagesAcknowledged++;
            done++;
            Endpoint.SendDescriptor d = o.d;
            if (d.path == SendPath.PINNED && nic.config().reuseCheck() && Endpoint.checksum(d) != d.checksum) {
                nic.finishSend(endpoint, d, CompletionStatus.BUFFER_MODIFIED, "send buffer was modified before the peer"
                        + " acknowledged it (a retransmission may have sent the new bytes): the buffer is the NIC's"
                        + " until the send completes");
            } else {
                nic.messageAcknowledged(d.length);
                nic.finishSend(endpoint, d, CompletionStatus.OK, null);
            }
        }
        return done;
    }

    private void arm(long now, long timeout) {
        timerArmed = true;
        timerDeadline = now + timeout;
    }

    private void goBack(long from) {
        long start = Math.max(from, peerAck);
        if (start >= next) {
            return;
        }
        // the timed fragment's acknowledgement may now wait for the recovery of an earlier message:
        // a sample would measure the recovery, not the path (Karn's rule, extended to head-of-line blocking)
        timedMessage = -1;
        cursor = start;
        for (long id = start; id < next; id++) {
            slot(id).cursor = 0;
        }
    }

    private void onTimeout(long now) {
        timerArmed = false;
        boolean outstanding = peerAck < next || state == CLOSE_SENT;
        if (!outstanding) {
            return;
        }
        timeouts++;
        if (++retries > options.maxRetransmits()) {
            if (state == CLOSE_SENT) {
                finishClose("peer did not acknowledge CLOSE after " + options.maxRetransmits() + " retransmissions;"
                        + " every message had been acknowledged");
            } else {
                fail(CompletionStatus.PEER_UNREACHABLE, "peer " + channel.remote + " did not acknowledge after "
                        + options.maxRetransmits() + " retransmissions (timeout now " + Duration.ofNanos(rtt.rto())
                        + "): it closed its channel, died or is unreachable");
            }
            return;
        }
        rtt.backOff();
        timedMessage = -1;
        if (state == CLOSE_SENT) {
            closeDue = true;
        } else {
            goBack(peerAck);
        }
        arm(now, rtt.rto());
    }

    private void onPinFailure(long now) {
        if (++pinFailures > options.maxRetransmits()) {
            fail(CompletionStatus.PIN_FAILED, "could not translate the send buffer " + pinFailures + " times: "
                    + nic.transmitFailure());
            return;
        }
        paused = true;
        pausedUntil = now + rtt.rto();
        if (!timerArmed) {
            arm(now, rtt.rto());
        }
    }

    /** A verified cumulative acknowledgement from the peer. */
    private void onAck(long ack, long now) {
        if (ack <= peerAck) {
            return;
        }
        long limit = state == CLOSE_SENT ? closeId + 1 : next;
        if (ack > limit) {
            return; // acknowledges what was never sent: a stale peer; ignore
        }
        if (timedMessage >= 0 && timedMessage < ack) {
            rtt.sample(now - timedAt);
            timedMessage = -1;
        }
        peerAck = ack;
        retries = 0;
        if (cursor < ack) {
            cursor = ack;
        }
        notReadyDelay = 0;
        if (peerAck < next) {
            arm(now, rtt.rto()); // progress: restart the timer for what is left
        } else if (state != CLOSE_SENT) {
            timerArmed = false;
        }
        if (state == CLOSE_SENT && ack > closeId) {
            completeAcknowledged();
            finishClose(null);
            return;
        }
        completeAcknowledged();
    }

    /** A verified selective acknowledgement of message {@code id}. */
    private void onSelectiveAck(long id, int prefix, long bitmap, long now) {
        if (id < peerAck || id >= next || id < base) {
            return;
        }
        Outgoing o = slot(id);
        int before = o.acked.count();
        int upTo = Math.min(prefix, o.fragments);
        for (int i = o.ackedPrefix; i < upTo; i++) {
            o.acked.add(i);
        }
        o.ackedPrefix = Math.max(o.ackedPrefix, upTo);
        for (long bits = bitmap; bits != 0; bits &= bits - 1) {
            o.acked.add(prefix + 1 + Long.numberOfTrailingZeros(bits));
        }
        if (o.acked.count() > before) {
            retries = 0; // the peer is taking this message's fragments
        }
        if (timedMessage == id && o.acked.contains(timedFragment)) {
            rtt.sample(now - timedAt);
            timedMessage = -1;
        }
    }

    /** The peer dropped a later message's frame: go back to the one it expects, once per episode. */
    private void onOutOfOrder(long ack) {
        if (ack != goBackAck && ack >= peerAck && ack < next) {
            goBackAck = ack;
            goBacks++;
            goBack(ack);
        }
    }

    /** The peer had no buffer (or no completion room) for message {@code id}: pause, then resend it. */
    private void onNotReady(long id, long now) {
        if (id < peerAck || id >= next) {
            return;
        }
        notReadyReceived++;
        retries = 0; // alive and answering, only out of buffers: not a reason to give up
        notReadyDelay = notReadyDelay == 0 ? rtt.minRto() : Math.min(2 * notReadyDelay, rtt.maxRto());
        paused = true;
        pausedUntil = now + notReadyDelay;
        goBack(id);
        arm(now, notReadyDelay + rtt.rto());
    }

    // =============================================================================================
    // close and failure
    // =============================================================================================

    /** Channel.close() on an open reliable channel: drain, then CLOSE. */
    void beginClose() {
        if (state == OPEN) {
            closing = true;
            state = DRAINING;
            if (!channel.isConnected()) {
                finishClose(null);
            }
        }
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
        Endpoint.SendDescriptor d;
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
        nic.closeReliable(channel, status, detail);
    }

    /**
     * The channel is closing for good (by {@link #fail} or an endpoint/NIC close): sends the peer
     * acknowledged complete OK, every other send in the window with {@code status}.
     */
    void abandon(CompletionStatus status, String detail) {
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
                nic.messageAcknowledged(o.d.length);
                nic.finishSend(endpoint, o.d, CompletionStatus.OK, null);
            } else {
                nic.finishSend(endpoint, o.d, status, detail);
            }
        }
        cursor = next;
    }

    /** Refuses freeing memory a send in the window still reads (DESIGN §3). */
    void refuseFreeInFlight(long address, long length) {
        for (long id = base; id < next; id++) {
            Endpoint.SendDescriptor d = slot(id).d;
            if (d.path == SendPath.PINNED) {
                for (int e = 0; e < d.count; e++) {
                    Nic.refuseIfOverlaps(address, length, d.addresses[e] + d.offsets[e], d.lengths[e],
                            "a reliable send not yet acknowledged");
                }
            }
        }
    }

    // =============================================================================================
    // receiver
    // =============================================================================================

    /** A frame for this channel from the copy-in path (loopback): the NIC pulls the payload itself. */
    void deliver(FrameHeader h, PayloadSource payload, long now) {
        if (h.type != FrameHeader.TYPE_DATA) {
            if (h.fragmentLength == SACK_BYTES) {
                payload.copyTo(0, ws.ackIn.buffer(), 0, SACK_BYTES);
            } else if (h.fragmentLength != 0) {
                malformed();
                return;
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
                nic.copyIn(channel, payload, h.fragmentOffset, h.fragmentLength);
            }
        } catch (RuntimeException e) {
            pinFailedOnReceive(e);
            return;
        }
        placed(h, now);
    }

    /** The placement path (udp): where the payload goes, or false to discard it (dropped, or a control frame handled). */
    boolean claim(FrameHeader h, Placement placement, long now) {
        if (h.type != FrameHeader.TYPE_DATA) {
            if (h.fragmentLength == 0) {
                onControl(h, now);
                return false;
            }
            if (h.fragmentLength != SACK_BYTES) {
                malformed();
                return false;
            }
            fill(placement, ws.ackIn, 0, SACK_BYTES);
            return true;
        }
        if (!admit(h, now)) {
            return false;
        }
        if (rxToOverflow) {
            fill(placement, ws.overflow, 0, h.fragmentLength);
            return true;
        }
        int index = channel.rxOffset + h.fragmentOffset;
        int length = h.fragmentLength;
        try {
            for (int done = 0; done < length; ) {
                long address = channel.rxAddress + index + done;
                nic.tlb().lookup(endpoint.context, channel.rxBuffer, address);
                done += (int) Math.min(length - done, PAGE - (address & (PAGE - 1)));
            }
        } catch (RuntimeException e) {
            pinFailedOnReceive(e);
            return false;
        }
        placement.buffer = channel.rxBuffer;
        placement.index = index;
        placement.address = channel.rxAddress + index;
        placement.length = length;
        return true;
    }

    /** The payload of the frame last claimed has been written. */
    void commit(FrameHeader h, long now) {
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
        nic.drop(DropReason.MALFORMED);
    }

    /**
     * Decides whether a DATA fragment is taken, before anything is written: in order, not a
     * duplicate, consistent with what is known of its message, a posted buffer for it. Sets where
     * its payload goes ({@link #rxToOverflow}).
     */
    private boolean admit(FrameHeader h, long now) {
        long id = h.messageId;
        if (id < rxNext) {
            duplicates++;
            nic.drop(DropReason.DUPLICATE);
            ackNow = true;
            return false;
        }
        if (id > rxNext) {
            outOfOrder++;
            nic.drop(DropReason.OUT_OF_ORDER);
            ackNow = true;
            ackFlags |= FrameHeader.FLAG_OUT_OF_ORDER;
            return false;
        }
        if (!channel.rxActive) {
            if (!nic.canComplete(endpoint)) {
                nic.drop(DropReason.COMPLETION_QUEUE_FULL);
                notReady(id);
                return false;
            }
            Endpoint.ReceiveDescriptor r = endpoint.freeQueue.peek();
            if (r == null) {
                nic.drop(DropReason.NO_BUFFER);
                notReady(id);
                return false;
            }
            channel.takePostedBuffer(r);
            channel.rxMessageId = id;
            channel.rxReceived = 0;
            channel.rxLength = h.messageLength;
            channel.rxTruncated = h.messageLength > channel.rxCapacity;
            rxUnit = 0;
            rxVerified = 0;
        }
        if (h.messageLength != channel.rxLength) {
            if (rxVerified > 0) {
                malformed();
                return false;
            }
            channel.rxLength = h.messageLength; // nothing verified yet: the first guess came from a bad frame
            channel.rxTruncated = h.messageLength > channel.rxCapacity;
        }
        int n = channel.rxLength;
        int offset = h.fragmentOffset;
        int length = h.fragmentLength;
        boolean last = offset + length == n;
        if (!last || offset > 0) {
            int unit = rxUnit != 0 ? rxUnit : last ? 0 : length;
            if (unit == 0) {
                outOfOrder++; // the last fragment, before the fragment size is known: it comes again
                nic.drop(DropReason.OUT_OF_ORDER);
                return false;
            }
            if (length == 0 || offset % unit != 0 || (last ? length > unit : length != unit)) {
                malformed();
                return false;
            }
            if (rxUnit != 0 && rxFragments.contains(offset / unit)) {
                duplicates++;
                nic.drop(DropReason.DUPLICATE);
                ackNow = true;
                return false;
            }
        }
        int inside = Math.max(0, Math.min(length, channel.rxCapacity - offset));
        rxToOverflow = inside < length;
        rxInside = inside;
        if (rxToOverflow) {
            ws.overflow(length);
        }
        return true;
    }

    /** The fragment admitted last is in place: verify it, then count it, acknowledge it, maybe complete the message. */
    private void placed(FrameHeader h, long now) {
        int offset = h.fragmentOffset;
        int length = h.fragmentLength;
        if ((h.flags & FrameHeader.FLAG_CHECKSUM) != 0) {
            FrameChecksum crc = ws.receiveChecksum.start(h);
            if (length > 0) {
                if (rxToOverflow) {
                    crc.update(ws.overflow.buffer(), 0, length);
                } else {
                    crc.update(channel.rxBuffer, channel.rxOffset + offset, length);
                }
            }
            if (crc.value() != h.checksum) {
                corrupted++;
                nic.drop(DropReason.CORRUPT);
                return;
            }
        }
        heard(now);
        if ((h.flags & FrameHeader.FLAG_ACK) != 0) {
            onAck(h.ack, now);
            if (state == DONE || !channel.rxActive) {
                return; // a completion handler closed the channel or its endpoint
            }
        }
        if (rxToOverflow && rxInside > 0) {
            try {
                nic.copyIn(channel, ws.overflow.length(length), offset, rxInside);
            } catch (RuntimeException e) {
                pinFailedOnReceive(e);
                return;
            }
        }
        int n = channel.rxLength;
        if (offset + length != n || offset > 0) {
            if (rxUnit == 0) {
                rxUnit = length;
                rxFragments.reset((int) ((n + (long) length - 1) / length));
            }
            rxFragments.add(offset / rxUnit);
        }
        rxVerified++;
        unacknowledged++;
        ackPending = true;
        if (unacknowledged >= 2) {
            ackNow = true;
        } else if (unacknowledged == 1) {
            ackDue = now + ackDelay;
        }
        if (channel.rxReceived + length == n) {
            rxNext++;
            rxUnit = 0;
            rxVerified = 0;
        }
        nic.finishFragment(channel, h); // completes the receive on the message's last byte
    }

    private void pinFailedOnReceive(RuntimeException e) {
        // the posted buffer could not be pinned: it completes PIN_FAILED; the message is not
        // acknowledged, so it is sent again into the next posted buffer
        rxUnit = 0;
        rxVerified = 0;
        nic.completeReceive(endpoint, channel, CompletionStatus.PIN_FAILED, e.getMessage());
    }

    private void notReady(long id) {
        notReadyDue = true;
        notReadyId = id;
    }

    /** ACK, NACK or CLOSE: verified, then acted on. Its SACK block, if any, is in {@code ws.ackIn}. */
    private void onControl(FrameHeader h, long now) {
        int length = h.fragmentLength;
        if ((h.flags & FrameHeader.FLAG_CHECKSUM) != 0) {
            FrameChecksum crc = ws.receiveChecksum.start(h);
            if (length > 0) {
                crc.update(ws.ackIn.buffer(), 0, length);
            }
            if (crc.value() != h.checksum) {
                corrupted++;
                nic.drop(DropReason.CORRUPT);
                return;
            }
        }
        heard(now);
        if ((h.flags & FrameHeader.FLAG_ACK) != 0) {
            onAck(h.ack, now);
            if (state == DONE) {
                return;
            }
        }
        switch (h.type) {
            case FrameHeader.TYPE_ACK -> {
                acksReceived++;
                if (length == SACK_BYTES) {
                    ByteBuffer block = ws.ackIn.buffer();
                    onSelectiveAck(h.messageId, block.getInt(0), block.getLong(8), now);
                }
                if ((h.flags & FrameHeader.FLAG_OUT_OF_ORDER) != 0) {
                    onOutOfOrder(h.ack);
                }
                if ((h.flags & FrameHeader.FLAG_PROBE) != 0) {
                    ackNow = true;
                }
            }
            case FrameHeader.TYPE_NACK -> onNotReady(h.messageId, now);
            case FrameHeader.TYPE_CLOSE -> onPeerClose(h.messageId);
            default -> malformed();
        }
    }

    private void onPeerClose(long id) {
        if (id < rxNext) {
            ackNow = true;
            return;
        }
        if (id > rxNext || channel.rxActive) {
            outOfOrder++;
            nic.drop(DropReason.OUT_OF_ORDER);
            ackNow = true;
            ackFlags |= FrameHeader.FLAG_OUT_OF_ORDER;
            return;
        }
        rxNext = id + 1;
        ackNow = true;
        closeAfterAck = true;
    }

    /**
     * A verified frame from the peer: it is alive, so keep-alive probing stops. It does not reset
     * the retransmission count: only acknowledged progress (or an explicit receiver-not-ready) does,
     * so a peer that answers but never acknowledges (it restarted and lost this channel's sequence)
     * is still given up on after maxRetransmits timeouts.
     */
    private void heard(long now) {
        lastHeard = now;
        established = true;
        probing = false;
        probes = 0;
    }

    /** Cumulative ack just rode on a DATA frame: a pending stand-alone ack is not needed unless it says more. */
    private void acknowledgedByPiggyback() {
        boolean saysMore = ackFlags != 0 || (channel.rxActive && rxVerified > 0) || closeAfterAck;
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

    private int sendAck(int extraFlags) {
        int sack = 0;
        if (channel.rxActive && rxVerified > 0 && rxUnit != 0) {
            int prefix = rxFragments.firstMissing();
            ByteBuffer block = ws.ackOut.buffer();
            block.putInt(0, prefix);
            block.putInt(4, 0);
            block.putLong(8, rxFragments.window(prefix + 1));
            sack = SACK_BYTES;
        }
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
            fail(CompletionStatus.CLOSED, "peer closed the channel");
        }
        return 1;
    }

    private FrameHeader control(int type, long messageId, int payload) {
        FrameHeader h = ws.header;
        h.type = type;
        h.sourceTag = channel.localTag;
        h.destinationTag = channel.remoteTag;
        h.sourceConnection = channel.connectionId;
        h.destinationConnection = channel.remoteConnection;
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
        return nic.transmitControl(channel, h, body);
    }

    private int keepAlive(long now) {
        if (keepAlive == 0 || !established || !channel.isConnected() || peerAck < next || state == CLOSE_SENT) {
            return 0; // data in flight: the retransmission timer watches the peer
        }
        if (!probing) {
            if (now - lastHeard < keepAlive) {
                return 0;
            }
            probing = true;
            probes = 0;
        } else if (now - probeDeadline < 0) {
            return 0;
        } else if (++probes > options.maxRetransmits()) {
            fail(CompletionStatus.PEER_UNREACHABLE, "peer " + channel.remote + " answered none of "
                    + options.maxRetransmits() + " keep-alive probes after " + Duration.ofNanos(now - lastHeard)
                    + " of silence: it closed its channel, died or is unreachable");
            return 1;
        } else {
            timeouts++;
        }
        if (sendAck(FrameHeader.FLAG_PROBE) == 0) {
            return 0;
        }
        probeDeadline = now + Math.min(rtt.maxRto(), rtt.rto() << Math.min(probes, 20));
        return 1;
    }

    // =============================================================================================

    ReliableStats stats() {
        return new ReliableStats(messagesAcknowledged, fragmentsSent, retransmissions, timeouts, goBacks, acksSent,
                acksReceived, notReadySent, notReadyReceived, duplicates, outOfOrder, corrupted, probesSent,
                Duration.ofNanos(rtt.srtt()), Duration.ofNanos(rtt.rttvar()), Duration.ofNanos(rtt.rto()),
                (int) (next - base));
    }
}
