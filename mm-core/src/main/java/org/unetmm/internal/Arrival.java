package org.unetmm.internal;

import java.nio.ByteBuffer;

/**
 * A message arriving into one posted buffer: the buffer taken from the free queue, how much of
 * the message is in place, and whether it is longer than the buffer. An unreliable channel has
 * one (its messages arrive one at a time); a reliable channel's receive window has one per slot.
 * Engine only.
 */
public final class Arrival {
    public boolean active;
    public long messageId;
    public ByteBuffer buffer;
    public long address;
    public int offset;
    public int capacity;
    public long cookie;
    /** Bytes of the message in place (fragments are counted whole, also past the buffer's end). */
    public int received;
    public int length;
    public boolean truncated;

    /** Takes the posted buffer at the head of {@code freeQueue} (already peeked) and releases its slot. */
    public void take(SpscRing<ReceiveDescriptor> freeQueue, ReceiveDescriptor r) {
        buffer = r.buffer;
        address = r.address;
        offset = r.offset;
        capacity = r.length;
        cookie = r.cookie;
        r.buffer = null;
        freeQueue.release();
        active = true;
    }

    /** A new message of {@code messageLength} bytes starts in the buffer held. */
    public void begin(long id, int messageLength) {
        messageId = id;
        received = 0;
        length = messageLength;
        truncated = messageLength > capacity;
    }

    /** Bytes the message has in the buffer once it is complete (or, if not, those written so far). */
    public int lengthInBuffer(boolean complete) {
        return Math.min(complete ? length : received, capacity);
    }

    /** Gives the buffer back (its completion is being issued). */
    public void end() {
        active = false;
        buffer = null;
    }

    public boolean overlaps(long from, long bytes) {
        return active && FreeGuard.overlaps(from, bytes, address + offset, capacity);
    }
}
