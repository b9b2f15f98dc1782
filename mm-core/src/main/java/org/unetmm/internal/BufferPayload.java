package org.unetmm.internal;

import java.nio.ByteBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.spi.PayloadSource;

/**
 * A fragment payload held in a direct buffer that is not user memory: the NIC's own (an
 * acknowledgement's selective-ack block, a test wire's held copy) or a wire's (a received
 * datagram's slot, an shm ring's inline record). The {@link PayloadSource} over bytes
 * {@code [index, index + length)} of it ({@link #length(int)} from 0, {@link #window} anywhere).
 * Nothing is translated through the TLB, and it cannot be retained: its owner reuses it.
 *
 * <p>Not thread-safe; reused, so it allocates nothing per frame.
 */
public final class BufferPayload implements PayloadSource {
    private final ByteBuffer buffer;
    private final long address;
    private int index;
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
        this.index = 0;
        this.length = bytes;
        return this;
    }

    /** Makes the payload bytes {@code [index, index + length)} of the buffer. */
    public BufferPayload window(int index, int length) {
        if (index < 0 || length < 0 || index > buffer.capacity() - length) {
            throw new IllegalArgumentException("payload of " + length + " bytes at " + index + " does not fit "
                    + buffer.capacity());
        }
        this.index = index;
        this.length = length;
        return this;
    }

    @Override
    public void copyTo(int offset, ByteBuffer destination, int destinationIndex, int count) {
        if (offset < 0 || count < 0 || offset > length - count) {
            throw new IndexOutOfBoundsException("copy of " + count + " bytes at " + offset + " from a " + length
                    + "-byte payload");
        }
        NativeMemory.copy(buffer, index + offset, destination, destinationIndex, count);
    }

    @Override
    public int gather(long[] addresses, int[] lengths, int max) {
        if (length == 0) {
            return 0;
        }
        if (max < 1) {
            return -1;
        }
        addresses[0] = address + index;
        lengths[0] = length;
        return 1;
    }

    /** The owner reuses this buffer for the next frame: a wire that keeps the payload copies it. */
    @Override
    public long retain() {
        return NOT_RETAINABLE;
    }
}
