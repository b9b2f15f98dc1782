package org.unetmm.nic.shm;

import java.nio.ByteBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.spi.PayloadSource;

/**
 * The payload of an inline record, still in the ring: the NIC pulls it from there into the posted
 * buffer (the second copy of the inline path). Bounds were checked when the record was read
 * ({@link ShmFrame#decode}); {@link NativeMemory#copy} checks both ranges again. The ring is
 * reused as soon as the record is consumed, so it cannot be retained. Reused; engine thread only.
 */
final class RingPayload implements PayloadSource {
    private ByteBuffer ring;
    private long ringAddress;
    private int index;
    private int length;

    RingPayload at(ByteBuffer ring, long ringAddress, int index, int length) {
        this.ring = ring;
        this.ringAddress = ringAddress;
        this.index = index;
        this.length = length;
        return this;
    }

    @Override
    public void copyTo(int offset, ByteBuffer destination, int destinationIndex, int count) {
        if (offset < 0 || count < 0 || offset > length - count) {
            throw new IndexOutOfBoundsException("copy of " + count + " bytes at " + offset + " from a " + length + "-byte payload");
        }
        NativeMemory.copy(ring, index + offset, destination, destinationIndex, count);
    }

    @Override
    public int gather(long[] addresses, int[] lengths, int max) {
        if (length == 0) {
            return 0;
        }
        if (max < 1) {
            return -1;
        }
        addresses[0] = ringAddress + index;
        lengths[0] = length;
        return 1;
    }

    @Override
    public long retain() {
        return NOT_RETAINABLE;
    }
}
