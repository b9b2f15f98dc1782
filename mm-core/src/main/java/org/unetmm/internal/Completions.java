package org.unetmm.internal;

import java.nio.ByteBuffer;
import org.unetmm.CompletionStatus;
import org.unetmm.SendPath;

/**
 * Completion delivery: the end of every send and every posted receive, with the endpoint's
 * counters and segment space, reported through the endpoint's {@link CompletionSink}. Every
 * operation passes here exactly once (DESIGN invariant 3). Engine lock held.
 */
public final class Completions {
    private final TrafficCounters traffic;

    public Completions(TrafficCounters traffic) {
        this.traffic = traffic;
    }

    /** Whether a completion for {@code ep} can be reported now. */
    public boolean canComplete(EndpointState ep) {
        return ep.sink.canComplete();
    }

    /** Completes the send at the head of {@code ep}'s send queue and releases its slot. */
    public void completeQueuedSend(EndpointState ep, SendDescriptor d, CompletionStatus status, String detail) {
        completeSend(ep, d, status, detail);
        ep.sendQueue.release();
    }

    /** A send's completion, its counters and its segment space; the caller frees the descriptor's slot. */
    public void completeSend(EndpointState ep, SendDescriptor d, CompletionStatus status, String detail) {
        if (d.path == SendPath.FIXED_SEGMENT) {
            ep.segmentReleases.release(d.segmentTicket, d.segmentConsumed);
        }
        boolean pinned = d.path == SendPath.PINNED;
        ep.sink.complete(true, status, d.cookie, d.channel, pinned ? d.buffers[0] : null, pinned ? d.offsets[0] : 0,
                d.length, detail);
        if (status == CompletionStatus.OK) {
            ep.counters.increment(EndpointState.SENDS_COMPLETED);
            ep.counters.add(EndpointState.BYTES_SENT, d.length);
        } else {
            ep.counters.increment(EndpointState.SENDS_FAILED);
        }
        d.clear();
    }

    /** The whole message is in the channel's arrival buffer: count it and complete the receive. */
    public void messageArrived(ChannelState channel) {
        Arrival a = channel.arrival;
        traffic.messageReceived(a.length);
        if (a.truncated) {
            completeReceive(channel, CompletionStatus.TRUNCATED, "message of " + a.length + " bytes was longer than the"
                    + " posted buffer of " + a.capacity + " bytes; post larger buffers");
        } else {
            completeReceive(channel, CompletionStatus.OK, null);
        }
    }

    /** Completes the receive into the channel's arrival buffer with {@code status}. */
    public void completeReceive(ChannelState channel, CompletionStatus status, String detail) {
        Arrival a = channel.arrival;
        EndpointState ep = channel.endpoint;
        int length = a.lengthInBuffer(status == CompletionStatus.OK || status == CompletionStatus.TRUNCATED);
        ByteBuffer buffer = a.buffer;
        if (status == CompletionStatus.OK || status == CompletionStatus.TRUNCATED) {
            ep.arrivalDepth.arrived(a.address + a.offset, length);
        }
        a.end();
        ep.sink.complete(false, status, a.cookie, channel, buffer, a.offset, length, detail);
        if (status == CompletionStatus.OK) {
            ep.counters.increment(EndpointState.RECEIVES_COMPLETED);
            ep.counters.add(EndpointState.BYTES_RECEIVED, length);
        } else {
            ep.counters.increment(EndpointState.RECEIVES_FAILED);
        }
    }

    /** A posted buffer that never received a message (its endpoint closed). */
    public void completeUnused(EndpointState ep, ReceiveDescriptor r, CompletionStatus status, String detail) {
        ep.sink.complete(false, status, r.cookie, null, r.buffer, r.offset, 0, detail);
        ep.counters.increment(EndpointState.RECEIVES_FAILED);
        r.buffer = null;
    }
}
