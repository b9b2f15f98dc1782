package org.unetmm.pinning;

import java.nio.ByteBuffer;

/**
 * One reference to a pinned region, from {@link PinCache#acquire}. While it is held the region's
 * pages stay locked and the buffer that owns the memory stays strongly reachable, so it cannot be
 * collected and freed under the NIC. Release it exactly once ({@link #release()}); a second
 * release is an error. {@link #close()} releases if not yet released, for try-with-resources.
 */
public final class PinHandle implements AutoCloseable {
    private final PinCache cache;
    private final PinCache.Region region;
    private final ByteBuffer owner;
    private final long address;
    private final int length;
    private boolean released;

    PinHandle(PinCache cache, PinCache.Region region, ByteBuffer owner, long address, int length) {
        this.cache = cache;
        this.region = region;
        this.owner = owner;
        this.address = address;
        this.length = length;
    }

    /** {@return the address of the first byte asked for} */
    public long address() {
        return address;
    }

    /** {@return the bytes asked for} */
    public int length() {
        return length;
    }

    /** {@return the whole pages pinned for this handle} */
    public PageRange pages() {
        return region.range;
    }

    /** {@return the buffer this handle keeps alive} */
    public ByteBuffer owner() {
        return owner;
    }

    /** {@return whether the handle has been released} */
    public synchronized boolean isReleased() {
        return released;
    }

    PinCache.Region region() {
        return region;
    }

    /** Gives the reference back; the region becomes idle when no one else holds it. */
    public void release() {
        if (!markReleased()) {
            throw new IllegalStateException("pin handle for " + length + " bytes at 0x" + Long.toHexString(address)
                    + " was already released: each acquire is released exactly once");
        }
        cache.release(this);
    }

    /** Releases the handle if it has not been released yet. */
    @Override
    public void close() {
        if (markReleased()) {
            cache.release(this);
        }
    }

    private synchronized boolean markReleased() {
        if (released) {
            return false;
        }
        released = true;
        return true;
    }

    @Override
    public String toString() {
        return "PinHandle[" + length + " bytes at 0x" + Long.toHexString(address) + ", pages " + region.range + "]";
    }
}
