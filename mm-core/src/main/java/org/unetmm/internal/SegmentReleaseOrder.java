package org.unetmm.internal;

/**
 * Gives fixed-segment space back in the order it was allocated, whatever order the sends
 * complete in. {@link SegmentAllocator} frees first-in first-out, which is right for unreliable
 * sends (they complete in send-queue order) but not once reliable channels hold a send until its
 * acknowledgement: channel A's older message may still wait for its ack while channel B's newer
 * one completes. Freeing B's bytes then would let the allocator hand out A's bytes, which a
 * retransmission still reads.
 *
 * <p>Every allocation gets a ticket, in allocation order (the application thread numbers them as
 * it allocates). {@link #release} records a completed ticket; the allocator's FIFO pointer
 * advances over the longest prefix of completed tickets only. Out-of-order completions wait in a
 * ring of byte counts indexed by ticket, grown (rarely) when more than its capacity are pending.
 *
 * <p>Threading: {@link #release} is called by the NIC engine only.
 */
public final class SegmentReleaseOrder {
    private final SegmentAllocator allocator;
    /** The oldest ticket not yet given back. */
    private long head;
    /** consumed + 1 of each completed ticket waiting for older ones, indexed ticket % length; 0 = not completed. */
    private long[] pending = new long[64];

    public SegmentReleaseOrder(SegmentAllocator allocator) {
        this.allocator = allocator;
    }

    /** Ticket {@code ticket}, which consumed {@code consumed} bytes, is complete: free what is now in order. */
    public void release(long ticket, int consumed) {
        if (ticket < head) {
            throw new IllegalStateException("segment ticket " + ticket + " released twice (head is " + head + ")");
        }
        if (ticket == head) {
            allocator.free(consumed);
            head++;
            drain();
            return;
        }
        if (ticket - head >= pending.length) {
            grow(ticket - head + 1);
        }
        pending[(int) (ticket % pending.length)] = consumed + 1L;
    }

    private void drain() {
        long freed = 0;
        int slot;
        while (pending[slot = (int) (head % pending.length)] != 0) {
            freed += pending[slot] - 1;
            pending[slot] = 0;
            head++;
        }
        if (freed > 0) {
            allocator.free((int) freed);
        }
    }

    private void grow(long span) {
        int length = pending.length;
        while (length < span) {
            length *= 2;
        }
        long[] grown = new long[length];
        for (long t = head; t < head + pending.length; t++) {
            grown[(int) (t % length)] = pending[(int) (t % pending.length)];
        }
        pending = grown;
    }

    /** Tickets completed out of order and waiting for an older one. */
    public int waiting() {
        int n = 0;
        for (long p : pending) {
            if (p != 0) {
                n++;
            }
        }
        return n;
    }
}
