package org.unetmm.spi;

import java.nio.ByteBuffer;

/**
 * The payload of one fragment, still in the sender's memory. Two ways out:
 * <ul>
 *   <li>{@link #copyTo}: the receiving side pulls it chunk by chunk straight into the posted buffer,
 *       so the loopback wire moves each byte once;</li>
 *   <li>{@link #gather}: a wire with gather I/O (udp's {@code sendmsg}) takes the native
 *       (address, length) pieces and hands them to the kernel, no copy in Java.</li>
 * </ul>
 * Either way every page of the sender's memory is translated through the NIC's TLB as it is read.
 */
public interface PayloadSource {
    /**
     * Copies {@code length} bytes, from {@code offset} within this fragment's payload, to
     * {@code destination} at absolute index {@code destinationIndex}. The caller keeps both ranges
     * in bounds.
     *
     * @param offset           where in the payload to start, in bytes
     * @param destination      the buffer to write into, direct or heap
     * @param destinationIndex absolute index in {@code destination} of the first byte written
     * @param length           bytes to copy
     */
    void copyTo(int offset, ByteBuffer destination, int destinationIndex, int length);

    /**
     * Describes the whole fragment payload as native pieces, in order: fills {@code addresses} and
     * {@code lengths} from index 0 and returns how many pieces, or -1 if they need more than
     * {@code max} entries. The memory stays valid and pinned until the transmit call returns, or,
     * if the wire {@link #retain()}s the fragment, until it releases it.
     *
     * @param addresses filled with each piece's native address
     * @param lengths   filled with each piece's length in bytes
     * @param max       the most entries to fill, at most both arrays' lengths
     * @return pieces filled, or -1 if more than {@code max} are needed
     */
    int gather(long[] addresses, int[] lengths, int max);

    /**
     * The wire keeps this fragment after {@link Transport#transmit} returns true (it reads the
     * pieces {@link #gather} named later, or lets someone else read them). Returns the token to
     * hand to {@link TransmitListener#released} when it is done; until then the fragment's pages
     * stay pinned and translated and its send does not complete. Call once, during the transmit
     * call, before returning true. Wires that finish inside {@code transmit} never call it.
     * Returns {@link #NOT_RETAINABLE} when the payload is the NIC's own reused memory (a control
     * frame's body): a wire that must keep it copies it instead.
     *
     * @return the token for {@link TransmitListener#released}, or {@link #NOT_RETAINABLE}
     */
    long retain();

    /** What {@link #retain()} returns for a payload that cannot be kept: copy it instead. */
    long NOT_RETAINABLE = -1;
}
