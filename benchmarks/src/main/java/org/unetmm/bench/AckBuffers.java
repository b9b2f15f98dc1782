package org.unetmm.bench;

import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;

/**
 * A stream sender's receive buffers for the receiver's acknowledgements (the count so far, 8
 * bytes): {@link UdpPeer#ACK_BUFFERS} slices of one pool on an endpoint of their own, each posted
 * again once its acknowledgement is read. Two acknowledgements that arrive in one progress round
 * each find a buffer; with a single one the second was dropped as {@code NO_BUFFER}.
 */
final class AckBuffers implements AutoCloseable {
    private static final int BYTES = 8;
    private final Endpoint acks;
    private final BufferPool pool = new BufferPool(BYTES, UdpPeer.ACK_BUFFERS);
    private final boolean[] posted = new boolean[UdpPeer.ACK_BUFFERS];

    AckBuffers(Endpoint acks) {
        this.acks = acks;
    }

    /** Posts every buffer that is not posted now. */
    void postAll() {
        for (int i = 0; i < posted.length; i++) {
            if (!posted[i]) {
                post(i);
            }
        }
    }

    /**
     * The count {@code c} (a completion of the acknowledgements' endpoint) carries, or -1 when it
     * carries none; its buffer is posted again unless the endpoint closed.
     */
    long taken(Completion c) {
        int i = (int) c.cookie();
        posted[i] = false;
        if (c.status() == CompletionStatus.CLOSED) {
            return -1;
        }
        long count = c.isSuccess() && c.length() == BYTES ? c.buffer().getLong(c.offset()) : -1;
        post(i);
        return count;
    }

    private void post(int i) {
        acks.postReceive(pool.get(i), 0, BYTES, i);
        posted[i] = true;
    }

    /** Frees the buffers: after the endpoint's NIC closed (which returned them). */
    @Override
    public void close() {
        pool.close();
    }
}
