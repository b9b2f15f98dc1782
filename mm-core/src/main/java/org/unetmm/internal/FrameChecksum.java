package org.unetmm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.zip.CRC32C;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.internal.NativeView;
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
 * The payload is read in place ({@link CRC32C#update(ByteBuffer)} over one re-pointed view of a
 * direct buffer's memory, or the heap buffer's array): no copy on the zero-copy path, no
 * allocation per fragment, and the caller's cursors are not touched.
 *
 * <p>Not thread-safe: one per NIC engine.
 */
public final class FrameChecksum {
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int HEADER_BYTES = 39;

    private final CRC32C crc = new CRC32C();
    /** The header's bytes; and a read-only heap payload's, a piece at a time. */
    private final byte[] scratch = new byte[4096];
    private final NativeView view = new NativeView();

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
     * Adds {@code length} bytes of {@code buffer} from absolute {@code index} (within its capacity,
     * whatever its limit: the NIC's rule), read in place: a direct buffer from its memory through
     * one re-pointed view, a heap buffer from its array; nothing is allocated and the owner's
     * cursors are not touched. Only a read-only heap buffer is copied through a scratch array.
     */
    public FrameChecksum update(ByteBuffer buffer, int index, int length) {
        Objects.checkFromIndexSize(index, length, buffer.capacity());
        if (buffer.isDirect() && NativeView.available()) {
            crc.update(view.over(NativeMemory.address(buffer) + index, length));
        } else if (buffer.hasArray()) {
            crc.update(buffer.array(), buffer.arrayOffset() + index, length);
        } else {
            byte[] b = scratch;
            for (int done = 0; done < length; ) {
                int chunk = Math.min(b.length, length - done);
                buffer.get(index + done, b, 0, chunk);
                crc.update(b, 0, chunk);
                done += chunk;
            }
        }
        return this;
    }

    /** The checksum, as carried in {@link FrameHeader#checksum}. */
    public int value() {
        return (int) crc.getValue();
    }
}
