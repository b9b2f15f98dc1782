package org.unetmm.spi;

import java.nio.ByteBuffer;

/**
 * The payload of one fragment, still in the sender's memory. The receiving side pulls it chunk
 * by chunk straight into the posted buffer, so the loopback wire moves each byte once; the
 * sender's side translates every page it reads through the NIC's TLB.
 */
public interface PayloadSource {
    /**
     * Copies {@code length} bytes, from {@code offset} within this fragment's payload, to
     * {@code destination} at absolute index {@code destinationIndex}. The caller keeps both ranges
     * in bounds.
     */
    void copyTo(int offset, ByteBuffer destination, int destinationIndex, int length);
}
