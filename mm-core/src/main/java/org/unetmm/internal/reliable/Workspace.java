package org.unetmm.internal.reliable;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.unetmm.SendPath;
import org.unetmm.internal.BufferPayload;
import org.unetmm.internal.EndpointState;
import org.unetmm.internal.FrameChecksum;
import org.unetmm.internal.SendDescriptor;
import org.unetmm.spi.FrameHeader;

/**
 * Working memory shared by a NIC's reliable channels (one engine runs them, one at a time): the
 * header being built, the checksums, the SACK areas out and in, the overflow scratch.
 */
final class Workspace {
    final FrameHeader header = new FrameHeader();
    final FrameChecksum sendChecksum = new FrameChecksum();
    final FrameChecksum receiveChecksum = new FrameChecksum();
    final BufferPayload ackOut = new BufferPayload(
            ByteBuffer.allocateDirect(ControlFrames.SACK_AREA_BYTES).order(ByteOrder.LITTLE_ENDIAN));
    final BufferPayload ackIn = new BufferPayload(
            ByteBuffer.allocateDirect(ControlFrames.SACK_AREA_BYTES).order(ByteOrder.LITTLE_ENDIAN));
    /** Where a fragment of a message longer than its posted buffer lands to be verified (made on first use). */
    BufferPayload overflow;

    BufferPayload overflow(int length) {
        if (overflow == null || overflow.capacity() < length) {
            overflow = new BufferPayload(Math.max(length, 64 * 1024));
        }
        return overflow;
    }

    /** CRC32C of the header and the fragment's bytes, read from the sender's memory as the wire will read them. */
    int dataChecksum(EndpointState endpoint, SendDescriptor d, FrameHeader h, int offset, int length) {
        FrameChecksum crc = sendChecksum.start(h);
        if (length == 0) {
            return crc.value();
        }
        if (d.path == SendPath.FIXED_SEGMENT) {
            return crc.update(endpoint.segment.buffer(), d.segmentOffset + offset, length).value();
        }
        int end = offset + length;
        int entryStart = 0;
        for (int entry = 0; entry < d.count && entryStart < end; entry++) {
            int entryEnd = entryStart + d.lengths[entry];
            int from = Math.max(offset, entryStart);
            int to = Math.min(end, entryEnd);
            if (to > from) {
                crc.update(d.buffers[entry], d.offsets[entry] + from - entryStart, to - from);
            }
            entryStart = entryEnd;
        }
        return crc.value();
    }
}
