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
 * <p><b>Coalesced datagrams.</b> Small messages queued for one peer in one progress round travel
 * in one datagram, each still a whole frame of its own, back to back, as Aeron's sender packs a
 * term's frames. Every frame but the last says so with {@link #FLAG_MORE} in its flags (a wire
 * bit, never handed to the NIC), so a datagram's layout is read from its headers alone:
 *
 * <pre>
 *  +-----------------+-----------+-----------------+-----------+     +-----------------+-----------+
 *  | header 0 (MORE) | payload 0 | header 1 (MORE) | payload 1 | ... | header n (last) | payload n |
 *  +-----------------+-----------+-----------------+-----------+     +-----------------+-----------+
 *  |&lt;------ 72 ------&gt;|&lt; fragment length 0 &gt;|
 * </pre>
 *
 * Each frame is checked on its own, with its own header checksum, against the bytes the datagram
 * still holds: a frame with {@code FLAG_MORE} must leave room for at least one more header after
 * its payload, the last frame must end exactly where the datagram ends
 * ({@link WireDropReason#LENGTH_MISMATCH} otherwise, as for a lone frame, which is a datagram of one
 * frame without the flag). A frame that fails drops itself and the rest of its datagram (its
 * lengths cannot be trusted to find the next header); frames before it were whole and valid and
 * stay delivered. So no frame can claim bytes past its datagram, and a payload is only ever
 * written into the placement the NIC gave for that frame. A receiver that predates the flag drops
 * coalesced datagrams as {@link WireDropReason#BAD_FLAGS}; lone frames are unchanged.
 *
 * <p>{@link #decode} checks every field, in the order of the layout, and names the first that
 * fails; a frame that fails is never handed to the NIC, so it can never write into a posted
 * buffer. A new version bumps {@link #VERSION}; a receiver drops versions it does not speak.
 *
 * <p>The layout (the {@code *_OFFSET} constants, {@link #MAGIC}, {@link #VERSION}) is public: it is
 * the wire format, for tools that read captures. Encoding and decoding are the udp wire's own.
 */
public final class WireFrame {
    /** Byte offset of the magic ({@link #MAGIC}), a 4-byte int. */
    public static final int MAGIC_OFFSET = 0;
    /** Byte offset of the version ({@link #VERSION}), one unsigned byte. */
    public static final int VERSION_OFFSET = 4;
    /** Byte offset of the frame type ({@code FrameHeader.TYPE_*}), one byte. */
    public static final int TYPE_OFFSET = 5;
    /** Byte offset of the flags ({@code FrameHeader.FLAG_*} and {@link #FLAG_MORE}), a 2-byte short. */
    public static final int FLAGS_OFFSET = 6;
    /** Byte offset of the sender's channel tag, a positive 4-byte int. */
    public static final int SOURCE_TAG_OFFSET = 8;
    /** Byte offset of the receiver's channel tag, a positive 4-byte int. */
    public static final int DESTINATION_TAG_OFFSET = 12;
    /** Byte offset of the message id, an 8-byte long counted per source channel. */
    public static final int MESSAGE_ID_OFFSET = 16;
    /** Byte offset of where in its message this fragment's payload goes, a non-negative 4-byte int. */
    public static final int FRAGMENT_OFFSET_OFFSET = 24;
    /** Byte offset of the whole message's length in bytes, a non-negative 4-byte int. */
    public static final int MESSAGE_LENGTH_OFFSET = 28;
    /** Byte offset of the payload bytes that follow this header, a non-negative 4-byte int. */
    public static final int FRAGMENT_LENGTH_OFFSET = 32;
    /** Byte offset of the cumulative acknowledgement of a reliable channel ({@code FLAG_ACK}), an 8-byte long. */
    public static final int ACK_OFFSET = 36;
    /** Byte offset of the NIC's end-to-end CRC32C ({@code FLAG_CHECKSUM}), 4 bytes carried as is. */
    public static final int PAYLOAD_CHECKSUM_OFFSET = 44;
    /** Byte offset of the sender's channel connection id, an 8-byte long, never 0. */
    public static final int SOURCE_CONNECTION_OFFSET = 48;
    /** Byte offset of the receiver's channel connection id, an 8-byte long; 0 when the sender knows none. */
    public static final int DESTINATION_CONNECTION_OFFSET = 56;
    /** Byte offset of 4 reserved bytes, written 0. */
    public static final int RESERVED_OFFSET = 64;
    /** Byte offset of the header checksum, the CRC32C of bytes 0 to 67 as a 4-byte int. */
    public static final int CHECKSUM_OFFSET = 68;
    /** Bytes of the header; the payload starts here. */
    public static final int HEADER_LENGTH = 72;

    /** 'U' 'N' 'M' 'M' read as a little-endian int. */
    public static final int MAGIC = 0x4D4D4E55;
    /** The wire version this code writes and the only one it accepts (3 added the connection ids). */
    public static final int VERSION = 3;
    /**
     * Wire flag: another frame follows this one in the same datagram (a coalesced datagram). The
     * top bit of the flags field, outside the SPI's flags; stripped before the NIC sees the frame.
     */
    public static final int FLAG_MORE = 1 << 15;
    /** Flags this version defines (the SPI's and {@link #FLAG_MORE}): any other bit set is a frame from a version we do not speak. */
    public static final int KNOWN_FLAGS = FrameHeader.KNOWN_FLAGS | FLAG_MORE;
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
        encode(header, frame, 0, crc);
    }

    /** Writes {@code header} as a wire header at index {@code at} of {@code frame}, checksum included. */
    static void encode(FrameHeader header, ByteBuffer frame, int at, CRC32C crc) {
        ByteBuffer b = frame.order() == ByteOrder.LITTLE_ENDIAN ? frame : frame.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        encodeUnsealed(header, b, at);
        seal(b, at, crc);
    }

    /**
     * Writes {@code header} at index {@code at} of the little-endian {@code frame} without its checksum:
     * a sender that may still set {@link #FLAG_MORE} {@linkplain #seal seals} it once that is decided.
     */
    static void encodeUnsealed(FrameHeader header, ByteBuffer b, int at) {
        b.putInt(at + MAGIC_OFFSET, MAGIC);
        b.put(at + VERSION_OFFSET, (byte) VERSION);
        b.put(at + TYPE_OFFSET, (byte) header.type);
        b.putShort(at + FLAGS_OFFSET, (short) header.flags);
        b.putInt(at + SOURCE_TAG_OFFSET, header.sourceTag);
        b.putInt(at + DESTINATION_TAG_OFFSET, header.destinationTag);
        b.putLong(at + MESSAGE_ID_OFFSET, header.messageId);
        b.putInt(at + FRAGMENT_OFFSET_OFFSET, header.fragmentOffset);
        b.putInt(at + MESSAGE_LENGTH_OFFSET, header.messageLength);
        b.putInt(at + FRAGMENT_LENGTH_OFFSET, header.fragmentLength);
        b.putLong(at + ACK_OFFSET, header.ack);
        b.putInt(at + PAYLOAD_CHECKSUM_OFFSET, header.checksum);
        b.putLong(at + SOURCE_CONNECTION_OFFSET, header.sourceConnection);
        b.putLong(at + DESTINATION_CONNECTION_OFFSET, header.destinationConnection);
        b.putInt(at + RESERVED_OFFSET, 0);
    }

    /** Writes the checksum of the header at index {@code at} of the little-endian {@code frame}. */
    static void seal(ByteBuffer frame, int at, CRC32C crc) {
        frame.putInt(at + CHECKSUM_OFFSET, checksum(frame, at, crc));
    }

    /**
     * Checks the frame of a {@code datagramLength}-byte datagram whose first bytes (up to
     * {@link #HEADER_LENGTH}) are at index 0 of {@code frame}, and fills {@code into}. Returns
     * null when every field is valid, else the first reason it is not; {@code into} is then
     * unspecified.
     */
    static WireDropReason decode(ByteBuffer frame, int datagramLength, FrameHeader into, CRC32C crc) {
        WireDropReason bad = decode(frame, 0, datagramLength, into, crc);
        return bad == null && (into.flags & FLAG_MORE) != 0 ? WireDropReason.LENGTH_MISMATCH : bad;
    }

    /**
     * Checks the frame at index {@code at} of {@code datagram}, of which {@code remaining} bytes
     * are left from {@code at} to the datagram's end (a coalesced datagram's frames are decoded in
     * turn), and fills {@code into}. A frame with {@link #FLAG_MORE} must leave room for another
     * header; one without must end where the datagram ends. {@code into.flags} keeps
     * {@code FLAG_MORE} so the caller knows whether a frame follows ({@link #isFollowed}); strip it
     * before the NIC sees the frame. Returns null when valid, else the first reason it is not.
     */
    static WireDropReason decode(ByteBuffer datagram, int at, int remaining, FrameHeader into, CRC32C crc) {
        if (remaining < HEADER_LENGTH) {
            return WireDropReason.SHORT_DATAGRAM;
        }
        ByteBuffer b = datagram.order() == ByteOrder.LITTLE_ENDIAN ? datagram : datagram.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(at + MAGIC_OFFSET) != MAGIC) {
            return WireDropReason.BAD_MAGIC;
        }
        if (b.getInt(at + CHECKSUM_OFFSET) != checksum(b, at, crc)) {
            return WireDropReason.BAD_CHECKSUM;
        }
        if ((b.get(at + VERSION_OFFSET) & 0xFF) != VERSION) {
            return WireDropReason.BAD_VERSION;
        }
        int type = b.get(at + TYPE_OFFSET) & 0xFF;
        if (type < FrameHeader.TYPE_DATA || type > FrameHeader.TYPE_CLOSE) {
            return WireDropReason.BAD_TYPE;
        }
        int flags = b.getShort(at + FLAGS_OFFSET) & 0xFFFF;
        if ((flags & ~KNOWN_FLAGS) != 0 || b.getInt(at + RESERVED_OFFSET) != 0) {
            return WireDropReason.BAD_FLAGS;
        }
        int source = b.getInt(at + SOURCE_TAG_OFFSET);
        int destination = b.getInt(at + DESTINATION_TAG_OFFSET);
        if (source <= 0 || destination <= 0) {
            return WireDropReason.BAD_TAG;
        }
        int offset = b.getInt(at + FRAGMENT_OFFSET_OFFSET);
        int messageLength = b.getInt(at + MESSAGE_LENGTH_OFFSET);
        int fragmentLength = b.getInt(at + FRAGMENT_LENGTH_OFFSET);
        if (messageLength < 0 || offset < 0 || fragmentLength < 0 || offset > messageLength
                || fragmentLength > messageLength - offset) {
            return WireDropReason.BAD_LENGTHS;
        }
        boolean more = (flags & FLAG_MORE) != 0;
        if (more ? fragmentLength > remaining - 2 * HEADER_LENGTH : fragmentLength != remaining - HEADER_LENGTH) {
            return WireDropReason.LENGTH_MISMATCH; // a frame claiming past its datagram, or leaving bytes no header names
        }
        long sourceConnection = b.getLong(at + SOURCE_CONNECTION_OFFSET);
        if (sourceConnection == 0) {
            return WireDropReason.BAD_CONNECTION;
        }
        into.type = type;
        into.flags = flags;
        into.sourceTag = source;
        into.destinationTag = destination;
        into.messageId = b.getLong(at + MESSAGE_ID_OFFSET);
        into.fragmentOffset = offset;
        into.messageLength = messageLength;
        into.fragmentLength = fragmentLength;
        into.ack = b.getLong(at + ACK_OFFSET);
        into.checksum = b.getInt(at + PAYLOAD_CHECKSUM_OFFSET);
        into.sourceConnection = sourceConnection;
        into.destinationConnection = b.getLong(at + DESTINATION_CONNECTION_OFFSET);
        return null;
    }

    /** CRC32C of bytes [0, {@link #CHECKSUM_OFFSET}) of {@code frame}. */
    static int checksum(ByteBuffer frame, CRC32C crc) {
        return checksum(frame, 0, crc);
    }

    /** CRC32C of the {@link #CHECKSUM_OFFSET} header bytes from index {@code at} of {@code frame}. */
    static int checksum(ByteBuffer frame, int at, CRC32C crc) {
        crc.reset();
        int position = frame.position();
        int limit = frame.limit();
        frame.limit(at + CHECKSUM_OFFSET).position(at);
        crc.update(frame);
        frame.limit(limit).position(position);
        return (int) crc.getValue();
    }

    /** Whether the frame just decoded into {@code header} is followed by another in its datagram. */
    static boolean isFollowed(FrameHeader header) {
        return (header.flags & FLAG_MORE) != 0;
    }

    /** Marks the encoded header at {@code at} as followed by another frame: sets {@link #FLAG_MORE}, checksum again. */
    static void markFollowed(ByteBuffer frame, int at, CRC32C crc) {
        setFollowed(frame, at);
        seal(frame, at, crc);
    }

    /** Sets {@link #FLAG_MORE} in the header at {@code at}, leaving its checksum to {@link #seal}. */
    static void setFollowed(ByteBuffer frame, int at) {
        frame.putShort(at + FLAGS_OFFSET, (short) (frame.getShort(at + FLAGS_OFFSET) | FLAG_MORE));
    }
}
