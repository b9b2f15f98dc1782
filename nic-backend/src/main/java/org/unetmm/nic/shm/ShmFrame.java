package org.unetmm.nic.shm;

import java.nio.ByteBuffer;
import org.unetmm.spi.FrameHeader;

/**
 * The frame records of {@link FrameRing} (layout drawn there): writes a {@link FrameHeader} into a
 * record and reads one back, checking every field once it is in this process's memory. A record
 * that fails a check is dropped and counted by the {@link ShmDropReason} returned.
 */
final class ShmFrame {
    static final int TYPE_OFFSET = 8;
    static final int FLAGS_OFFSET = 12;
    static final int SOURCE_TAG_OFFSET = 16;
    static final int DESTINATION_TAG_OFFSET = 20;
    static final int SOURCE_CONNECTION_OFFSET = 24;
    static final int DESTINATION_CONNECTION_OFFSET = 32;
    static final int MESSAGE_ID_OFFSET = 40;
    static final int FRAGMENT_OFFSET_OFFSET = 48;
    static final int MESSAGE_LENGTH_OFFSET = 52;
    static final int FRAGMENT_LENGTH_OFFSET = 56;
    static final int CHECKSUM_OFFSET = 60;
    static final int ACK_OFFSET = 64;
    static final int HEADER_LENGTH = 72;
    static final int SEQ_OFFSET = 72;
    static final int PID_OFFSET = 80;
    static final int PIECES_OFFSET = 84;
    static final int PIECE_LIST_OFFSET = 88;
    static final int PIECE_LENGTH = 16;
    static final int SEGMENT_NUMBER_OFFSET = 80;
    static final int SEGMENT_PAYLOAD_OFFSET = 88;
    static final int SEGMENT_RECORD_LENGTH = 96;
    /** IOV_MAX: the most remote iovecs one process_vm_readv takes. */
    static final int MAX_PIECES = 1024;
    /** The top of x86-64 and aarch64 user space (47/48-bit); no peer address lies above it. */
    static final long USER_SPACE_END = 1L << 48;

    private ShmFrame() {
    }

    static int rendezvousLength(int pieces) {
        return PIECE_LIST_OFFSET + pieces * PIECE_LENGTH;
    }

    /**
     * Writes a record's kind and header at {@code at}, all but its length word: {@link FrameRing#append}
     * writes that last, which publishes the record.
     */
    static void encode(ByteBuffer m, int at, int kind, FrameHeader h) {
        m.putInt(at + FrameRing.KIND_OFFSET, kind);
        m.putInt(at + TYPE_OFFSET, h.type);
        m.putInt(at + FLAGS_OFFSET, h.flags);
        m.putInt(at + SOURCE_TAG_OFFSET, h.sourceTag);
        m.putInt(at + DESTINATION_TAG_OFFSET, h.destinationTag);
        m.putLong(at + SOURCE_CONNECTION_OFFSET, h.sourceConnection);
        m.putLong(at + DESTINATION_CONNECTION_OFFSET, h.destinationConnection);
        m.putLong(at + MESSAGE_ID_OFFSET, h.messageId);
        m.putInt(at + FRAGMENT_OFFSET_OFFSET, h.fragmentOffset);
        m.putInt(at + MESSAGE_LENGTH_OFFSET, h.messageLength);
        m.putInt(at + FRAGMENT_LENGTH_OFFSET, h.fragmentLength);
        m.putInt(at + CHECKSUM_OFFSET, h.checksum);
        m.putLong(at + ACK_OFFSET, h.ack);
    }

    /**
     * Reads the header of the record at {@code at} ({@code length} bytes, of {@code kind}, as
     * {@link FrameRing#next()} checked it) into {@code h}; returns null if every field is sound,
     * else why not. The record's size must be exactly what its kind and fragment length need.
     */
    static ShmDropReason decode(ByteBuffer m, int at, int kind, int length, FrameHeader h) {
        if (kind != FrameRing.KIND_INLINE && kind != FrameRing.KIND_RENDEZVOUS && kind != FrameRing.KIND_SEGMENT) {
            return ShmDropReason.BAD_KIND;
        }
        if (length < HEADER_LENGTH) {
            return ShmDropReason.BAD_RECORD_LENGTH;
        }
        h.type = m.getInt(at + TYPE_OFFSET);
        h.flags = m.getInt(at + FLAGS_OFFSET);
        h.sourceTag = m.getInt(at + SOURCE_TAG_OFFSET);
        h.destinationTag = m.getInt(at + DESTINATION_TAG_OFFSET);
        h.sourceConnection = m.getLong(at + SOURCE_CONNECTION_OFFSET);
        h.destinationConnection = m.getLong(at + DESTINATION_CONNECTION_OFFSET);
        h.messageId = m.getLong(at + MESSAGE_ID_OFFSET);
        h.fragmentOffset = m.getInt(at + FRAGMENT_OFFSET_OFFSET);
        h.messageLength = m.getInt(at + MESSAGE_LENGTH_OFFSET);
        h.fragmentLength = m.getInt(at + FRAGMENT_LENGTH_OFFSET);
        h.checksum = m.getInt(at + CHECKSUM_OFFSET);
        h.ack = m.getLong(at + ACK_OFFSET);
        if (h.type < FrameHeader.TYPE_DATA || h.type > FrameHeader.TYPE_CLOSE || (h.flags & ~FrameHeader.KNOWN_FLAGS) != 0
                || h.sourceTag <= 0 || h.destinationTag <= 0 || h.sourceConnection == 0) {
            return ShmDropReason.BAD_HEADER;
        }
        if (!h.isWellFormed()) {
            return ShmDropReason.BAD_LENGTHS;
        }
        if (kind == FrameRing.KIND_INLINE) {
            return length == HEADER_LENGTH + h.fragmentLength ? null : ShmDropReason.BAD_LENGTHS;
        }
        if (kind == FrameRing.KIND_SEGMENT) {
            return length == SEGMENT_RECORD_LENGTH && h.fragmentLength > 0 ? null : ShmDropReason.BAD_LENGTHS;
        }
        return length >= PIECE_LIST_OFFSET && h.fragmentLength > 0 ? null : ShmDropReason.BAD_LENGTHS;
    }

    /**
     * Checks a rendezvous record's (pid, pieces) and copies its first pieces, covering
     * {@code wanted} bytes, into {@code addresses}/{@code lengths} (the last one cut to fit).
     * Returns the number of pieces copied, or -1 with the reason in {@code why[0]}.
     */
    static int pieces(ByteBuffer m, int at, int length, int fragmentLength, int peerPid, int wanted,
                      long[] addresses, long[] lengths, ShmDropReason[] why) {
        int pid = m.getInt(at + PID_OFFSET);
        int count = m.getInt(at + PIECES_OFFSET);
        if (pid != peerPid || pid <= 0) {
            why[0] = ShmDropReason.WRONG_PID;
            return -1;
        }
        if (count < 1 || count > MAX_PIECES || length != rendezvousLength(count)) {
            why[0] = ShmDropReason.BAD_PIECES;
            return -1;
        }
        long total = 0;
        int kept = 0;
        long left = wanted;
        for (int i = 0, p = at + PIECE_LIST_OFFSET; i < count; i++, p += PIECE_LENGTH) {
            long address = m.getLong(p);
            long bytes = m.getLong(p + 8);
            if (address <= 0 || bytes <= 0 || bytes > Integer.MAX_VALUE || address > USER_SPACE_END - bytes) {
                why[0] = ShmDropReason.BAD_PIECES;
                return -1;
            }
            total += bytes;
            if (left > 0) {
                addresses[kept] = address;
                lengths[kept] = Math.min(bytes, left);
                left -= lengths[kept];
                kept++;
            }
        }
        if (total != fragmentLength) {
            why[0] = ShmDropReason.BAD_PIECES;
            return -1;
        }
        return kept;
    }
}
