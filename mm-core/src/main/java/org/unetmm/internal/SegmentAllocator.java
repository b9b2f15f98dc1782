package org.unetmm.internal;

/**
 * Space in an endpoint's fixed communication segment, handed out first-in first-out: base U-Net's
 * send path copies each message into the next free bytes and the NIC frees them in the order the
 * sends complete (one send queue, processed in order). A message never wraps: if it does not fit
 * before the end, the allocator skips to offset 0.
 *
 * <p>Threading: the application thread allocates, the NIC thread frees; {@code freed} is the
 * only shared word and is published with a volatile write.
 */
public final class SegmentAllocator {
    private final int size;
    /** Bytes ever allocated, counting skipped tails (application thread). */
    private long allocated;
    /** Bytes ever freed (NIC thread). */
    private volatile long freed;
    private int lastConsumed;

    public SegmentAllocator(int size) {
        this.size = size;
    }

    public int size() {
        return size;
    }

    /**
     * Reserves {@code length} contiguous bytes; returns their offset in the segment, or -1 when
     * not enough is free now. {@link #consumed} tells how many bytes (with a skipped tail) to free later.
     */
    public int allocate(int length) {
        if (length > size) {
            return -1;
        }
        int position = (int) (allocated % size);
        long skip = position + length > size ? size - position : 0;
        long done = freed;
        // an empty segment takes any message that fits it, the skipped tail included; otherwise the
        // message, placed after the skip, must end within one segment length of the oldest live byte
        if (allocated != done && allocated + skip + length - done > size) {
            return -1;
        }
        allocated += skip;
        lastConsumed = (int) (skip + length);
        int offset = (int) (allocated % size);
        allocated += length;
        return offset;
    }

    /** Bytes the last successful {@link #allocate} consumed, including a skipped tail. */
    public int consumed() {
        return lastConsumed;
    }

    /** NIC thread: gives back {@code consumed} bytes, oldest first. */
    public void free(int consumed) {
        freed = freed + consumed;
    }

    public long inUse() {
        return allocated - freed;
    }
}
