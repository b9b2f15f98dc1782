package org.unetmm.bench;

import java.nio.ByteBuffer;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionHandler;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.Nic;
import org.unetmm.SendPath;
import org.unetmm.pinning.NativeBuffer;

/** The sending side: free source slots, counts, and the sink's latest report. */
final class StreamSender {
    private final Nic nic;
    private final Endpoint endpoint;
    private final Channel data;
    private final NativeBuffer sources;
    private final NativeBuffer reports;
    private final SendPath path;
    private final int size;
    private final int[] free;
    private int freeCount;
    private final int slots;
    long sent;
    long delivered;
    long lost;
    long truncated;
    boolean ended;
    private long reportsSeen;
    /** What the sink's latest report says it holds. */
    StreamProtocol.Capacity capacity;
    /** Set once the sink answered HELLO; until then nothing is pushed. */
    UdpPeer.Window window;
    /** The most data messages ever outstanding beyond the sink's acknowledged count. */
    long mostOutstanding;
    /** Why a send failed because the wire knows the sink is gone (its NIC closed or went silent); null while it is there. */
    String sinkGone;

    /** The sources and the report buffers, little-endian views made once. */
    private final ByteBuffer sourcesLe;
    private final ByteBuffer reportsLe;
    private final CompletionHandler onCompletion = this::onCompletion;

    StreamSender(Nic nic, Endpoint endpoint, Channel data, NativeBuffer sources, NativeBuffer reports, int slots, SendPath path) {
        this.sourcesLe = StreamProtocol.le(sources.buffer().duplicate());
        this.reportsLe = StreamProtocol.le(reports.buffer().duplicate());
        this.nic = nic;
        this.endpoint = endpoint;
        this.data = data;
        this.sources = sources;
        this.reports = reports;
        this.path = path;
        this.slots = slots;
        this.size = sources.buffer().capacity() / slots;
        this.free = new int[slots];
        for (int i = 0; i < slots; i++) {
            free[freeCount++] = i;
        }
    }

    /** Sends as many messages as there are free slots and queue room. */
    void push() {
        ByteBuffer memory = sources.buffer();
        while (freeCount > 0 && window.mayPush()) {
            int slot = free[freeCount - 1];
            sourcesLe.putLong(slot * size, sent);
            if (!endpoint.send(data, memory, slot * size, size, path, slot).isAccepted()) {
                return;
            }
            freeCount--;
            sent++;
            window.pushed();
            mostOutstanding = Math.max(mostOutstanding, window.outstanding());
            if (path == SendPath.FIXED_SEGMENT) {
                free[freeCount++] = slot; // copied into the segment: the buffer is free at once (its completion still comes)
            }
        }
    }

    /** Takes the endpoint's completions through a handler (a reused view each): nothing is allocated per message. */
    void drain() {
        while (endpoint.poll(onCompletion, 64) > 0) {
            // each completion handled in onCompletion
        }
    }

    private void onCompletion(Completion c) {
        if (c.kind() == Completion.Kind.SEND) {
            if (c.cookie() >= 0 && path == SendPath.PINNED) {
                free[freeCount++] = (int) c.cookie();
            }
            if (sinkGone == null && (c.status() == CompletionStatus.PEER_UNREACHABLE || c.status() == CompletionStatus.CLOSED)) {
                sinkGone = c.detail() == null ? c.status().toString() : c.detail();
            }
            return;
        }
        if (c.isSuccess() && c.length() == StreamProtocol.REPORT_BYTES) {
            ByteBuffer r = reportsLe;
            int at = c.offset();
            delivered = r.getLong(at);
            lost = r.getLong(at + 16);
            ended = r.getLong(at + 32) == 1;
            truncated = r.getLong(at + StreamProtocol.TRUNCATED_OFFSET);
            if (window != null) {
                window.acknowledged(r.getLong(at + 24)); // the highest sequence number seen + 1
            } else {
                capacity = StreamProtocol.Capacity.read(r, at); // the answer to HELLO: what the sink holds
            }
            reportsSeen++;
        }
        endpoint.postReceive(reports.buffer(), (int) c.cookie() * StreamProtocol.REPORT_BYTES,
                StreamProtocol.REPORT_BYTES, c.cookie());
    }

    /** Drives the NIC until every data send completed (bounded: a second). */
    void finishSends() {
        long deadline = System.nanoTime() + 1_000_000_000L;
        while ((path == SendPath.PINNED ? freeCount < slots : false) && System.nanoTime() - deadline < 0) {
            nic.progress();
            drain();
        }
    }

    /**
     * Sends the control message (HELLO, or END when {@code final_}) every 100 ms until the sink
     * answers with a report (after END: its final one), for at most 3 s; whether it did.
     */
    boolean handshake(ByteBuffer control, int length, boolean final_) {
        long seen = reportsSeen;
        long deadline = System.nanoTime() + StreamCommand.ANSWER_NANOS;
        long resend = 0;
        while (System.nanoTime() - deadline < 0) {
            long now = System.nanoTime();
            if (now - resend >= 0) {
                endpoint.send(data, control, 0, length, SendPath.FIXED_SEGMENT, StreamCommand.CONTROL_COOKIE);
                resend = now + 100_000_000L;
            }
            nic.progress();
            drain();
            if (reportsSeen > seen && (!final_ || ended)) {
                return true;
            }
        }
        return false;
    }
}
