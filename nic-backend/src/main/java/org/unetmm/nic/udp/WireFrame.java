package org.unetmm.nic.udp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.unetmm.spi.FrameHeader;

/**
 * The wire frame of DESIGN §3: a fixed, versioned, little-endian header of {@link #HEADER_LENGTH}
 * bytes in front of each fragment's payload; one frame is one UDP datagram.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |               magic: the bytes 'U' 'N' 'M' 'M'                |  0
 *  +---------------+---------------+-------------------------------+
 *  |    version    |     type      |  flags (FrameHeader.FLAG_*)   |  4
 *  +---------------+---------------+-------------------------------+
 *  |                   source tag (sender's channel)               |  8
 *  +---------------------------------------------------------------+
 *  |              destination tag (receiver's channel)             | 12
 *  +---------------------------------------------------------------+
 *  |                  message id (per source channel)              | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |          fragment offset: where the payload goes              | 24
 *  +---------------------------------------------------------------+
 *  |                 message length: all fragments                 | 28
 *  +---------------------------------------------------------------+
 *  |            fragment length: payload bytes that follow         | 32
 *  +---------------------------------------------------------------+
 *  |     ack: cumulative acknowledgement (reliable, FLAG_ACK)      | 36
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |  payload checksum: end-to-end CRC32C (reliable, FLAG_CHECKSUM) | 44
 *  +---------------------------------------------------------------+
 *  |        source connection id (sender's channel, never 0)       | 48
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |   destination connection id (receiver's channel; 0 = unknown) | 56
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                       reserved (0)                            | 64
 *  +---------------------------------------------------------------+
 *  |           header checksum: CRC32C of bytes 0 to 67            | 68
 *  +---------------------------------------------------------------+
 *  |                 payload: fragment length bytes               ...  72
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * Types are {@link FrameHeader#TYPE_DATA}, {@code TYPE_ACK}, {@code TYPE_NACK} and
 * {@code TYPE_CLOSE}. Tags are positive, lengths and the offset are non-negative, the fragment
 * lies inside its message, and the datagram is exactly header plus fragment length. The header
 * checksum covers the header only: the UDP checksum covers the payload on the wire (loopback does
 * not need one), and the header is what decides where the payload is written. Version 2 added
 * the fields of reliable channels ({@code ack}, {@code payload checksum}: the NIC's own
 * end-to-end CRC32C of header fields and payload, carried as is) and their flags. Version 3
 * added the connection ids (see {@code org.unetmm.Channel}): every channel draws a random
 * non-zero one when it opens, so a frame names the two channels of one connection, not just two
 * tags that a restarted peer or a later channel reuses. The source id is never 0; the destination
 * id is 0 when the sender was given the receiver's address without one (a well-known tag).
 *
 * <p>{@link #decode} checks every field, in the order of the layout, and names the first that
 * fails; a frame that fails is never handed to the NIC, so it can never write into a posted
 * buffer. A new version bumps {@link #VERSION}; a receiver drops versions it does not speak.
 *
 * <p>The layout (the {@code *_OFFSET} constants, {@link #MAGIC}, {@link #VERSION}) is public: it is
 * the wire format, for tools that read captures. Encoding and decoding are the udp wire's own.
 */
public final class WireFrame {
    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int TYPE_OFFSET = 5;
    public static final int FLAGS_OFFSET = 6;
    public static final int SOURCE_TAG_OFFSET = 8;
    public static final int DESTINATION_TAG_OFFSET = 12;
    public static final int MESSAGE_ID_OFFSET = 16;
    public static final int FRAGMENT_OFFSET_OFFSET = 24;
    public static final int MESSAGE_LENGTH_OFFSET = 28;
    public static final int FRAGMENT_LENGTH_OFFSET = 32;
    public static final int ACK_OFFSET = 36;
    public static final int PAYLOAD_CHECKSUM_OFFSET = 44;
    public static final int SOURCE_CONNECTION_OFFSET = 48;
    public static final int DESTINATION_CONNECTION_OFFSET = 56;
    public static final int RESERVED_OFFSET = 64;
    public static final int CHECKSUM_OFFSET = 68;
    public static final int HEADER_LENGTH = 72;

    /** 'U' 'N' 'M' 'M' read as a little-endian int. */
    public static final int MAGIC = 0x4D4D4E55;
    public static final int VERSION = 3;
    /** Flags this version defines (the SPI's): any other bit set is a frame from a version we do not speak. */
    public static final int KNOWN_FLAGS = FrameHeader.KNOWN_FLAGS;
    /** The largest UDP payload over IPv4: 65535 - 20 (IP) - 8 (UDP). */
    public static final int MAX_DATAGRAM = 65_507;
    /** The largest fragment payload one datagram carries. */
    public static final int MAX_FRAGMENT = MAX_DATAGRAM - HEADER_LENGTH;

    private WireFrame() {
    }

    /**
     * Writes {@code header} as a wire header at index 0 of {@code frame} (little-endian order is
     * set by the caller's buffer or forced here), checksum included.
     */
    static void encode(FrameHeader header, ByteBuffer frame, CRC32C crc) {
        ByteBuffer b = frame.order() == ByteOrder.LITTLE_ENDIAN ? frame : frame.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC_OFFSET, MAGIC);
        b.put(VERSION_OFFSET, (byte) VERSION);
        b.put(TYPE_OFFSET, (byte) header.type);
        b.putShort(FLAGS_OFFSET, (short) header.flags);
        b.putInt(SOURCE_TAG_OFFSET, header.sourceTag);
        b.putInt(DESTINATION_TAG_OFFSET, header.destinationTag);
        b.putLong(MESSAGE_ID_OFFSET, header.messageId);
        b.putInt(FRAGMENT_OFFSET_OFFSET, header.fragmentOffset);
        b.putInt(MESSAGE_LENGTH_OFFSET, header.messageLength);
        b.putInt(FRAGMENT_LENGTH_OFFSET, header.fragmentLength);
        b.putLong(ACK_OFFSET, header.ack);
        b.putInt(PAYLOAD_CHECKSUM_OFFSET, header.checksum);
        b.putLong(SOURCE_CONNECTION_OFFSET, header.sourceConnection);
        b.putLong(DESTINATION_CONNECTION_OFFSET, header.destinationConnection);
        b.putInt(RESERVED_OFFSET, 0);
        b.putInt(CHECKSUM_OFFSET, checksum(b, crc));
    }

    /**
     * Checks the frame of a {@code datagramLength}-byte datagram whose first bytes (up to
     * {@link #HEADER_LENGTH}) are at index 0 of {@code frame}, and fills {@code into}. Returns
     * null when every field is valid, else the first reason it is not; {@code into} is then
     * unspecified.
     */
    static WireDropReason decode(ByteBuffer frame, int datagramLength, FrameHeader into, CRC32C crc) {
        if (datagramLength < HEADER_LENGTH) {
            return WireDropReason.SHORT_DATAGRAM;
        }
        ByteBuffer b = frame.order() == ByteOrder.LITTLE_ENDIAN ? frame : frame.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(MAGIC_OFFSET) != MAGIC) {
            return WireDropReason.BAD_MAGIC;
        }
        if (b.getInt(CHECKSUM_OFFSET) != checksum(b, crc)) {
            return WireDropReason.BAD_CHECKSUM;
        }
        if ((b.get(VERSION_OFFSET) & 0xFF) != VERSION) {
            return WireDropReason.BAD_VERSION;
        }
        int type = b.get(TYPE_OFFSET) & 0xFF;
        if (type < FrameHeader.TYPE_DATA || type > FrameHeader.TYPE_CLOSE) {
            return WireDropReason.BAD_TYPE;
        }
        int flags = b.getShort(FLAGS_OFFSET) & 0xFFFF;
        if ((flags & ~KNOWN_FLAGS) != 0 || b.getInt(RESERVED_OFFSET) != 0) {
            return WireDropReason.BAD_FLAGS;
        }
        int source = b.getInt(SOURCE_TAG_OFFSET);
        int destination = b.getInt(DESTINATION_TAG_OFFSET);
        if (source <= 0 || destination <= 0) {
            return WireDropReason.BAD_TAG;
        }
        int offset = b.getInt(FRAGMENT_OFFSET_OFFSET);
        int messageLength = b.getInt(MESSAGE_LENGTH_OFFSET);
        int fragmentLength = b.getInt(FRAGMENT_LENGTH_OFFSET);
        if (messageLength < 0 || offset < 0 || fragmentLength < 0 || offset > messageLength
                || fragmentLength > messageLength - offset) {
            return WireDropReason.BAD_LENGTHS;
        }
        if (fragmentLength != datagramLength - HEADER_LENGTH) {
            return WireDropReason.LENGTH_MISMATCH;
        }
        long sourceConnection = b.getLong(SOURCE_CONNECTION_OFFSET);
        if (sourceConnection == 0) {
            return WireDropReason.BAD_CONNECTION;
        }
        into.type = type;
        into.flags = flags;
        into.sourceTag = source;
        into.destinationTag = destination;
        into.messageId = b.getLong(MESSAGE_ID_OFFSET);
        into.fragmentOffset = offset;
        into.messageLength = messageLength;
        into.fragmentLength = fragmentLength;
        into.ack = b.getLong(ACK_OFFSET);
        into.checksum = b.getInt(PAYLOAD_CHECKSUM_OFFSET);
        into.sourceConnection = sourceConnection;
        into.destinationConnection = b.getLong(DESTINATION_CONNECTION_OFFSET);
        return null;
    }

    /** CRC32C of bytes [0, {@link #CHECKSUM_OFFSET}) of {@code frame}. */
    static int checksum(ByteBuffer frame, CRC32C crc) {
        crc.reset();
        int position = frame.position();
        int limit = frame.limit();
        frame.limit(CHECKSUM_OFFSET).position(0);
        crc.update(frame);
        frame.limit(limit).position(position);
        return (int) crc.getValue();
    }
}
