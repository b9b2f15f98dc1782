package org.unetmm.pinning;

import java.nio.ByteBuffer;

/**
 * Memory from {@link NativeMemory#allocate}: a page-aligned direct {@link ByteBuffer} and the
 * mapping behind it, owned by whoever allocated it until {@link #close()} unmaps it. Touching
 * {@link #buffer()} after close is a use-after-free, as with any native memory: don't.
 */
public final class NativeBuffer implements AutoCloseable {
    private final ByteBuffer buffer;
    private final long address;
    private final int capacity;
    private final long mappingBase;
    private final long mappingLength;
    private final boolean guarded;
    private boolean freed;

    NativeBuffer(ByteBuffer buffer, long address, int capacity, long mappingBase, long mappingLength, boolean guarded) {
        this.buffer = buffer;
        this.address = address;
        this.capacity = capacity;
        this.mappingBase = mappingBase;
        this.mappingLength = mappingLength;
        this.guarded = guarded;
    }

    /** {@return the direct buffer over the memory, in native byte order; valid until {@link #close()}} */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** {@return the address of the first usable byte (page-aligned)} */
    public long address() {
        return address;
    }

    /** {@return the usable bytes, as asked of {@link NativeMemory#allocate}} */
    public int capacity() {
        return capacity;
    }

    /** {@return whether PROT_NONE guard pages sit right before and after the usable pages} */
    public boolean guarded() {
        return guarded;
    }

    long mappingBase() {
        return mappingBase;
    }

    long mappingLength() {
        return mappingLength;
    }

    /** {@return whether {@link #close()} has unmapped the memory} */
    public synchronized boolean isFreed() {
        return freed;
    }

    /**
     * Unmaps the memory. Pin caches drop their idle pins of it first; if one of them still has a
     * region in use there, this throws {@link PinInUseException} and the memory stays mapped.
     * A second close is a no-op.
     */
    @Override
    public synchronized void close() {
        if (!freed) {
            NativeMemory.free(this);
            freed = true;
        }
    }
}
