package org.unetmm.spi;

import java.nio.ByteBuffer;

/**
 * Where the NIC wants an arriving fragment's payload: {@code length} bytes of {@code buffer} from
 * absolute {@code index} (native address {@code address}), every page already translated through
 * the TLB. Bytes of the fragment past {@code length} (a message longer than the posted buffer)
 * must be discarded, never written. Filled by {@link Inbound#claim}; reused, so nothing allocates.
 */
public final class Placement {
    /** The posted buffer the payload goes into. */
    public ByteBuffer buffer;
    /** Absolute index in {@link #buffer} of the payload's first byte. */
    public int index;
    /** Native address of that byte, translated through the TLB. */
    public long address;
    /** The most payload bytes that may be written there. */
    public int length;

    /** Forgets the placement (drops the buffer reference), for reuse. */
    public void clear() {
        buffer = null;
        index = 0;
        address = 0;
        length = 0;
    }
}
