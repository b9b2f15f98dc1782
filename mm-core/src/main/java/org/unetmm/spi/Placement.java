package org.unetmm.spi;

import java.nio.ByteBuffer;

/**
 * Where the NIC wants an arriving fragment's payload: {@code length} bytes of {@code buffer} from
 * absolute {@code index} (native address {@code address}), every page already translated through
 * the TLB. Bytes of the fragment past {@code length} (a message longer than the posted buffer)
 * must be discarded, never written. Filled by {@link Inbound#claim}; reused, so nothing allocates.
 */
public final class Placement {
    public ByteBuffer buffer;
    public int index;
    public long address;
    public int length;

    public void clear() {
        buffer = null;
        index = 0;
        address = 0;
        length = 0;
    }
}
