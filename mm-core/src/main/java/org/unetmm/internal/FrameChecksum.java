package org.unetmm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.unetmm.spi.FrameHeader;

/**
 * The optional end-to-end checksum of reliable channels: CRC32C (Castagnoli, as iSCSI and SCTP
 * use) over the header fields that decide where a fragment goes and what it acknowledges, then
 * over its payload. A wire's own checks (UDP's checksum, the udp wire's header CRC) protect one
 * hop; this one is computed from the sender's memory and verified against the receiver's, so a
 * fault anywhere between (and the fault-injecting test wire) is caught, the frame dropped and
 * counted, and the fragment retransmitted.
 *
 * <p>The header fields are fed as these 39 little-endian bytes, whatever the wire's layout:
 * <pre>
 *   0 type (1)   1 flags (2)   3 source tag (4)   7 destination tag (4)   11 message id (8)
 *  19 fragment offset (4)   23 message length (4)   27 fragment length (4)   31 ack (8)   39 end
 * </pre>
 * The payload is read in place through a view of its buffer ({@link CRC32C#update(ByteBuffer)}:
 * a direct buffer from its memory, no copy), so the caller's cursors are not touched; a view is
 * made when the buffer changes, not per fragment.
 *
 * <p>Not thread-safe: one per NIC engine.
 */
public final class FrameChecksum {
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int HEADER_BYTES = 39;

    private final CRC32C crc = new CRC32C();
    private final byte[] scratch = new byte[HEADER_BYTES];
    /** The buffer last read, and a view of it whose cursors are this checksum's (never the owner's). */
    private ByteBuffer viewed;
    private ByteBuffer view;

    /** Starts a checksum with {@code h}'s fields ({@link FrameHeader#checksum} itself is not covered). */
    public FrameChecksum start(FrameHeader h) {
        byte[] b = scratch;
        b[0] = (byte) h.type;
        SHORT.set(b, 1, (short) h.flags);
        INT.set(b, 3, h.sourceTag);
        INT.set(b, 7, h.destinationTag);
        LONG.set(b, 11, h.messageId);
        INT.set(b, 19, h.fragmentOffset);
        INT.set(b, 23, h.messageLength);
        INT.set(b, 27, h.fragmentLength);
        LONG.set(b, 31, h.ack);
        crc.reset();
        crc.update(b, 0, HEADER_BYTES);
        return this;
    }

    /**
     * Adds {@code length} bytes of {@code buffer} from absolute {@code index}, read in place (a
     * direct buffer straight from its memory: no copy on the zero-copy path). The buffer's own
     * cursors are not touched; a view of it is made once per buffer, not per call.
     */
    public FrameChecksum update(ByteBuffer buffer, int index, int length) {
        if (buffer != viewed) {
            view = buffer.duplicate();
            viewed = buffer;
        }
        ByteBuffer v = view;
        v.clear(); // capacity, not limit: the NIC's rule
        v.position(index).limit(index + length);
        crc.update(v);
        return this;
    }

    /** The checksum, as carried in {@link FrameHeader#checksum}. */
    public int value() {
        return (int) crc.getValue();
    }
}
