package org.unetmm.internal;

import java.nio.ByteBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.spi.PayloadSource;

/**
 * A fragment payload held in a direct buffer of the NIC's own (an acknowledgement's selective-ack
 * block, a test wire's held copy): the {@link PayloadSource} over bytes [0, length) of it. The
 * memory is not user memory, so nothing is translated through the TLB.
 *
 * <p>Not thread-safe; reused, so it allocates nothing per frame.
 */
public final class BufferPayload implements PayloadSource {
    private final ByteBuffer buffer;
    private final long address;
    private int length;

    public BufferPayload(int capacity) {
        this(ByteBuffer.allocateDirect(capacity));
    }

    public BufferPayload(ByteBuffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("a BufferPayload needs a direct buffer: its address goes to gather I/O");
        }
        this.buffer = direct;
        this.address = NativeMemory.address(direct);
    }

    /** The whole buffer, to fill before {@link #length(int)}. */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** The native address of index 0. */
    public long address() {
        return address;
    }

    public int capacity() {
        return buffer.capacity();
    }

    public int length() {
        return length;
    }

    /** Sets how many bytes from index 0 are the payload. */
    public BufferPayload length(int bytes) {
        if (bytes < 0 || bytes > buffer.capacity()) {
            throw new IllegalArgumentException("payload of " + bytes + " bytes does not fit " + buffer.capacity());
        }
        this.length = bytes;
        return this;
    }

    @Override
    public void copyTo(int offset, ByteBuffer destination, int destinationIndex, int count) {
        NativeMemory.copy(buffer, offset, destination, destinationIndex, count);
    }

    @Override
    public int gather(long[] addresses, int[] lengths, int max) {
        if (length == 0) {
            return 0;
        }
        if (max < 1) {
            return -1;
        }
        addresses[0] = address;
        lengths[0] = length;
        return 1;
    }

    /** The NIC reuses this buffer for the next frame: a wire that keeps the payload copies it. */
    @Override
    public long retain() {
        return NOT_RETAINABLE;
    }
}
