package org.unetmm.internal.reliable;

import org.unetmm.ChannelConfig;
import org.unetmm.CompletionStatus;
import org.unetmm.internal.ChannelServices;
import org.unetmm.internal.ChannelState;
import org.unetmm.internal.EndpointState;
import org.unetmm.internal.FreeGuard;
import org.unetmm.internal.RttEstimator;
import org.unetmm.internal.SendDescriptor;
import org.unetmm.spi.FrameHeader;

/**
 * The sending half of a reliable channel (see {@link ReliableProtocol}, Acknowledgements and the
 * sender, and Timers): the window of up to {@link ChannelConfig#window()} sends with a
 * scoreboard each ({@link Outgoing}), the retransmission timer (RFC 6298, Karn), selective repeat
 * of what {@link LossDetector} or a timeout deems lost, the receiver-not-ready pause, and the
 * completion of each send once the peer's cumulative acknowledgement passes it.
 */
final class ReliableSender {
    private final ReliableProtocol p;
    private final ChannelServices services;
    private final ChannelState channel;
    private final EndpointState endpoint;
    private final ChannelConfig options;
    private final Workspace ws;
    private final RttEstimator rtt;
    private final ReliableCounters counters;
    private final LossDetector loss;
    private final int mtu;
    private final int checksumFlag;

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
    /** Fragments in the window's lost sets. */
    private int lostPending;
    private boolean timerArmed;
    private long timerDeadline;
    /** Transmission pauses until {@link #pausedUntil} (receiver not ready, or a pin failure). */
    private boolean paused;
    private long pausedUntil;
    private long notReadyDelay;
    private int pinFailures;
    private boolean windowFull; // a send waits for a slot of the full window

    ReliableSender(ReliableProtocol p) {
        this.p = p;
        this.services = p.services;
        this.channel = p.channel;
        this.endpoint = p.endpoint;
        this.options = p.options;
        this.ws = p.ws;
        this.rtt = p.rtt;
        this.counters = p.counters;
        this.mtu = p.mtu;
        this.checksumFlag = p.checksumFlag;
        this.loss = new LossDetector(this, p.rtt, p.counters);
        int size = Integer.highestOneBit(Math.max(1, options.window() - 1)) << 1;
        this.window = new Outgoing[size];
        for (int i = 0; i < size; i++) {
            window[i] = new Outgoing(endpoint.config.maxScatter());
        }
        this.mask = size - 1;
    }

    Outgoing slot(long id) {
        return window[(int) id & mask];
    }

    /** The peer's cumulative acknowledgement. */
    long peerAck() {
        return peerAck;
    }

    /** Id of the next message to enter the window (CLOSE takes it). */
    long next() {
        return next;
    }

    /** Whether anything sent or taken into the window is not yet acknowledged. */
    boolean unacknowledged() {
        return peerAck < next;
    }

    /** Whether every send the window took has completed. */
    boolean drained() {
        return base >= next;
    }

    /** End of a round: whether the sender can only wait for acks (a send waits, the window all sent, none to resend). */
    void accountAckWait(long now) {
        counters.ackWait(windowFull && fresh >= next && lostPending == 0 && !paused && peerAck < next, now);
    }

    /** Sends in the window. */
    int inFlight() {
        return (int) (next - base);
    }

    boolean timerExpired(long now) {
        return timerArmed && now - timerDeadline >= 0;
    }

    void disarm() {
        timerArmed = false;
    }

    /** Arms the retransmission timer with the current timeout unless it runs already. */
    void armIfIdle(long now) {
        if (!timerArmed) {
            arm(now, rtt.rto());
        }
    }

    /** Ends a pause whose time has come. */
    void resumeIfDue(long now) {
        if (paused && now - pausedUntil >= 0) {
            paused = false;
        }
    }

    boolean paused() {
        return paused;
    }

    /**
     * Takes the send at the head of the endpoint's send queue into the window and releases its
     * queue slot. Returns false, leaving it queued, when the window is full.
     */
    boolean send(SendDescriptor d) {
        windowFull = next - base >= options.window();
        if (windowFull) {
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
            p.liveness.clockAtFirstFragment();
        }
        next++;
        d.clear();
        endpoint.sendQueue.release();
        return true;
    }

    /** Lost fragments first, oldest message first; then fragments never sent. */
    int sendData(long now) {
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
                if (p.isDone()) {
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
                if (p.isDone()) {
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
        h.ack = p.receiver.expected();
        h.checksum = checksumFlag == 0 ? 0 : ws.dataChecksum(endpoint, d, h, offset, length);
        int result = services.sends.transmit(channel, h, endpoint, d, d, offset, length);
        if (result <= 0) {
            return result;
        }
        pinFailures = 0;
        counters.fragmentsSent++;
        p.liveness.fragmentSent(now);
        o.txSeq[fragment] = loss.record(o.id, fragment);
        o.txLast[fragment] = now;
        if (fragment < o.sentHigh) {
            counters.retransmissions++;
            o.resent.add(fragment); // Karn: its acknowledgement is ambiguous, no sample
        } else {
            o.sentHigh = fragment + 1;
            o.txTime[fragment] = now;
        }
        if (!timerArmed) {
            arm(now, rtt.rto());
        }
        p.debt.acknowledgedByPiggyback();
        return 1;
    }

    /** Issues the completions of messages the peer has acknowledged, oldest first, while they can be reported. */
    int completeAcknowledged() {
        int done = 0;
        while (base < peerAck && base < next && !p.isDone() && slot(base).d.held == 0 && endpoint.sink.canComplete()) {
            Outgoing o = slot(base);
            base++; // before the upcall: a handler may send again
            counters.messagesAcknowledged++;
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

    void arm(long now, long timeout) {
        timerArmed = true;
        timerDeadline = now + timeout;
    }

    /** Marks fragment {@code f} of {@code o} lost, to be sent again ahead of new data (a timeout's or NACK's resend: ambiguous). */
    void markLost(Outgoing o, int f, boolean ambiguous) {
        if (ambiguous) {
            o.ambiguous.add(f);
        }
        if (o.lost.add(f)) {
            lostPending++;
            counters.fragmentsLost++;
        }
    }

    /** The retransmission timer expired with data unacknowledged: back off, and resend the oldest as a probe. */
    void onTimeout(long now) {
        if (peerAck >= next) {
            return;
        }
        counters.timeouts++;
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
            p.fail(CompletionStatus.PIN_FAILED, "could not translate the send buffer " + pinFailures + " times: "
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
        p.liveness.progressed(now);
        notReadyDelay = 0;
        if (peerAck < next) {
            arm(now, rtt.rto()); // restart the timer for what is left
        } else if (!p.isCloseSent()) {
            timerArmed = false;
        }
    }

    /**
     * Fragment {@code f} of {@code o} is acknowledged now; returns whether that is news. Feeds
     * the loss detector's newest acknowledged transmission and the candidate round-trip sample.
     */
    private boolean acknowledge(Outgoing o, int f, long now) {
        if (f >= o.sentHigh || !o.acked.add(f)) {
            return false; // never sent (a stale or confused peer) or already known
        }
        if (o.lost.remove(f)) {
            lostPending--; // it arrived after all (reordered): no need to resend
        }
        loss.acknowledged(o, f, now);
        return true;
    }

    /**
     * A verified cumulative acknowledgement from the peer (on any frame). Returns whether it
     * moved; the messages it passes are wholly acknowledged.
     */
    private boolean onAck(long ack, long now) {
        if (ack <= peerAck) {
            return false;
        }
        long limit = p.isCloseSent() ? p.closeId() + 1 : next;
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
        if (p.isCloseSent() && ack > p.closeId()) {
            completeAcknowledged();
            p.finishClose(null);
            return true;
        }
        completeAcknowledged();
        return true;
    }

    /** A verified piggybacked acknowledgement on a DATA frame: cumulative only, so no loss is judged from it. */
    void onPiggybackAck(long ack, long now) {
        loss.beginAckFrame();
        onAck(ack, now);
        if (!p.isDone()) {
            loss.endAckFrame(now, peerAck, false);
            loss.skipAcknowledged();
        }
    }

    /** A stand-alone ACK: its cumulative ack, then its SACK blocks (in the workspace's {@code ackIn}). */
    void onAckFrame(long ack, int sackBytes, long now) {
        loss.beginAckFrame();
        boolean news = onAck(ack, now);
        if (p.isDone()) {
            return;
        }
        long coveredEnd = peerAck;
        if (ack == peerAck && sackBytes > 0) {
            boolean sackNews = false;
            ControlFrames frames = p.frames;
            for (int at = 0; at < sackBytes; at += ControlFrames.SACK_BYTES) {
                int prefix = frames.sackPrefix(at);
                int delta = frames.sackMessage(at);
                long bitmap = frames.sackBitmap(at);
                long id = ack + delta;
                if (delta < 0 || id >= next || prefix < 0) {
                    p.malformed();
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
        loss.endAckFrame(now, coveredEnd, news);
    }

    /** The peer had no buffer (or no completion room) for message {@code id}: pause, then resend what it refused. */
    void onNotReady(long id, long ack, long now) {
        if (id < peerAck || id >= next || ack < peerAck) {
            return; // stale, or from a peer that lost this channel's sequence (restarted): no sign of life
        }
        counters.notReadyReceived++;
        p.liveness.progressed(now); // alive and answering, only out of buffers: not a reason to give up
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

    /**
     * The channel is closing for good: sends the peer acknowledged complete OK, every other send
     * in the window with {@code status}.
     */
    void abandon(CompletionStatus status, String detail) {
        timerArmed = false;
        while (base < next) {
            Outgoing o = slot(base);
            boolean delivered = base < peerAck;
            base++;
            if (delivered) {
                counters.messagesAcknowledged++;
                services.traffic.messageSent(o.d.length);
                services.completions.completeSend(endpoint, o.d, CompletionStatus.OK, null);
            } else {
                services.completions.completeSend(endpoint, o.d, status, detail);
            }
        }
        fresh = next;
        lostPending = 0;
    }

    /** Refuses freeing memory a send in the window still reads. */
    void refuseFreeInFlight(long address, long length) {
        for (long id = base; id < next; id++) {
            SendDescriptor d = slot(id).d;
            FreeGuard.refuseIfSendOverlaps(address, length, d, "a reliable send not yet acknowledged");
        }
    }
}
