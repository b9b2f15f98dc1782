package org.unetmm.internal.reliable;

import java.time.Duration;
import org.unetmm.ChannelConfig;
import org.unetmm.CompletionStatus;
import org.unetmm.internal.ChannelState;
import org.unetmm.internal.RttEstimator;
import org.unetmm.spi.FrameHeader;

/**
 * Whether the peer is still there (see {@link ReliableProtocol}, Liveness): the silence clock
 * while something is unacknowledged (since the last acknowledged progress), keep-alive probing
 * while idle (since the peer was last heard), and the verdict after
 * {@link ChannelConfig#peerTimeout()}. Silence counts only while this engine runs: a gap between
 * two progress rounds longer than {@code maxRto} is not held against the peer beyond {@code maxRto}.
 */
final class Liveness {
    private final ReliableProtocol p;
    private final ChannelState channel;
    private final ChannelConfig options;
    private final RttEstimator rtt;
    private final ReliableCounters counters;
    private final long keepAlive;
    private final long peerTimeout;

    /** Since when the peer has shown no sign of life that counts (see the class comment, Liveness). */
    private long silentSince;
    /** Nothing was unacknowledged when the window took its newest send: the silence clock starts at its first fragment. */
    private boolean clockPending;
    /** When the channel's progress last ran. */
    private long lastProgress;
    private boolean established;
    private long lastHeard;
    private boolean probing;
    private int probes;
    private long probeDeadline;

    Liveness(ReliableProtocol p) {
        this.p = p;
        this.channel = p.channel;
        this.options = p.options;
        this.rtt = p.rtt;
        this.counters = p.counters;
        this.keepAlive = options.keepAlive().toNanos();
        this.peerTimeout = options.peerTimeout().toNanos();
        this.lastHeard = System.nanoTime();
        this.silentSince = lastHeard;
        this.lastProgress = lastHeard;
    }

    /** A progress round begins at {@code now}: a gap since the last one beyond {@code maxRto} is forgiven. */
    void progressRound(long now) {
        long stalled = now - lastProgress - rtt.maxRto();
        lastProgress = now;
        if (stalled > 0) {
            // this engine did not run (a pause of this process, a starved NIC thread, a caller that
            // stopped calling progress): the peer cannot be blamed for a silence nobody listened to
            silentSince += stalled;
            lastHeard += stalled;
        }
    }

    /**
     * While something is unacknowledged: gives the peer up (the channel fails PEER_UNREACHABLE)
     * once {@code peerTimeout} has passed without acknowledged progress; returns whether it did.
     */
    boolean peerGaveUpOn(long now) {
        if (p.sender.unacknowledged() && !clockPending && now - silentSince >= peerTimeout && !p.isDone()) {
            p.fail(CompletionStatus.PEER_UNREACHABLE, "peer " + channel.remote + " acknowledged nothing for "
                    + Duration.ofNanos(now - silentSince) + " (peerTimeout " + options.peerTimeout() + ", "
                    + counters.timeouts + " timeouts, timeout now " + Duration.ofNanos(rtt.rto())
                    + "): it closed its channel, died or is unreachable");
            return true;
        }
        return false;
    }

    /** The window took a send while nothing was unacknowledged: the silence clock starts at its first fragment. */
    void clockAtFirstFragment() {
        clockPending = true;
    }

    /** A data fragment went out at {@code now}. */
    void fragmentSent(long now) {
        if (clockPending) {
            clockPending = false;
            silentSince = probing ? lastHeard : now; // silence counts from when there is something to acknowledge
        }
    }

    /** Acknowledged progress, or a receiver-not-ready NACK: the peer is alive and answering. */
    void progressed(long now) {
        silentSince = now;
    }

    /**
     * A verified frame from the peer: it is alive, so keep-alive probing stops. It does not count
     * as progress: only acknowledgements (or an explicit receiver-not-ready) do, so a peer that
     * answers but never acknowledges (it restarted and lost this channel's sequence) is still given
     * up on after {@code peerTimeout}.
     */
    void heard(long now) {
        lastHeard = now;
        established = true;
        probing = false;
        probes = 0;
    }

    /** While idle: probes a peer silent for {@code keepAlive}, and gives it up after {@code peerTimeout} of silence. */
    int keepAlive(long now) {
        if (keepAlive == 0 || !established || !channel.isConnected() || p.sender.unacknowledged() || p.isCloseSent()) {
            return 0; // data in flight: the retransmission timer and peerTimeout watch the peer
        }
        if (!probing) {
            if (now - lastHeard < keepAlive) {
                return 0;
            }
            probing = true;
            probes = 0;
        } else if (now - lastHeard >= peerTimeout) {
            p.fail(CompletionStatus.PEER_UNREACHABLE, "peer " + channel.remote + " answered none of " + probes
                    + " keep-alive probes in " + Duration.ofNanos(now - lastHeard) + " of silence (peerTimeout "
                    + options.peerTimeout() + "): it closed its channel, died or is unreachable");
            return 1;
        } else if (now - probeDeadline < 0) {
            return 0;
        } else {
            probes++;
            counters.timeouts++;
        }
        if (p.debt.sendAck(FrameHeader.FLAG_PROBE) == 0) {
            return 0;
        }
        probeDeadline = now + Math.min(rtt.maxRto(), rtt.rto() << Math.min(probes, 20));
        return 1;
    }
}
