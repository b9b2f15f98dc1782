package org.unetmm.internal.reliable;

import java.nio.ByteBuffer;
import org.unetmm.internal.BufferPayload;
import org.unetmm.internal.ChannelServices;
import org.unetmm.internal.ChannelState;
import org.unetmm.internal.FrameChecksum;
import org.unetmm.spi.FrameHeader;
import org.unetmm.spi.Placement;

/**
 * The control frames of a reliable channel (ACK, NACK, CLOSE; see {@link ReliableProtocol},
 * Frames): their headers, their checksums, and the selective-ack blocks an ACK carries as its
 * payload, one for every message of the receive window from the expected one up to the last one
 * any fragment has arrived for, little-endian:
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |  prefix: fragments 0 .. prefix-1 received (prefix is missing)  |  0 SACK_PREFIX_OFFSET
 *  +---------------------------------------------------------------+
 *  |  message: its id less the cumulative ack (0 = the expected one)|  4 SACK_MESSAGE_OFFSET
 *  +---------------------------------------------------------------+
 *  |  bitmap: bit i set = fragment prefix+1+i received (LE long)    |  8 SACK_BITMAP_OFFSET
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  (a complete message not yet delivered: prefix = its fragment count, bitmap 0)
 * </pre>
 * Blocks are written into the workspace's {@code ackOut} and read from its {@code ackIn}.
 */
final class ControlFrames {
    static final int SACK_PREFIX_OFFSET = 0;
    static final int SACK_MESSAGE_OFFSET = 4;
    static final int SACK_BITMAP_OFFSET = 8;
    /** Bytes of one selective-ack block. */
    static final int SACK_BYTES = 16;
    /** Bytes of the most SACK blocks one ACK carries. */
    static final int SACK_AREA_BYTES = ReliableProtocol.MAX_SACK_BLOCKS * SACK_BYTES;

    private final ReliableProtocol p;
    private final Workspace ws;
    private final ChannelState channel;
    private final ChannelServices services;
    private final int checksumFlag;

    ControlFrames(ReliableProtocol p) {
        this.p = p;
        this.ws = p.ws;
        this.channel = p.channel;
        this.services = p.services;
        this.checksumFlag = p.checksumFlag;
    }

    /** Whether a control frame's payload can be SACK blocks. */
    static boolean sackLengthValid(int length) {
        return length >= 0 && length % SACK_BYTES == 0 && length <= SACK_AREA_BYTES;
    }

    /** The header of a control frame of {@code type} with {@code payload} bytes of SACK blocks, carrying the cumulative ack. */
    FrameHeader control(int type, long messageId, int payload) {
        FrameHeader h = ws.header;
        h.type = type;
        channel.address(h);
        h.messageId = messageId;
        h.fragmentOffset = 0;
        h.messageLength = payload;
        h.fragmentLength = payload;
        h.flags = FrameHeader.FLAG_RELIABLE | FrameHeader.FLAG_ACK | checksumFlag;
        h.ack = p.receiver.expected();
        return h;
    }

    /** Checksums and transmits control frame {@code h} with the first {@code payload} bytes of {@code ackOut}; false = back-pressured. */
    boolean transmit(FrameHeader h, int payload) {
        BufferPayload body = ws.ackOut.length(payload);
        if (checksumFlag != 0) {
            FrameChecksum crc = ws.sendChecksum.start(h);
            if (payload > 0) {
                crc.update(body.buffer(), 0, payload);
            }
            h.checksum = crc.value();
        } else {
            h.checksum = 0;
        }
        return services.sends.transmitControl(channel, h, body);
    }

    /** Writes one SACK block for every message from the expected one up to the last one anything arrived for; returns their bytes. */
    int sackBlocks() {
        ReliableReceiver receiver = p.receiver;
        ByteBuffer block = ws.ackOut.buffer();
        int at = 0;
        for (long id = receiver.expected(); id < receiver.high() && id < receiver.expected() + receiver.window(); id++) {
            Incoming r = receiver.in(id);
            int prefix = 0;
            long bitmap = 0;
            if (r.bound && r.id == id) {
                if (r.complete) {
                    prefix = r.fragmentCount();
                } else if (r.unit != 0) {
                    prefix = r.fragments.firstMissing();
                    bitmap = r.fragments.window(prefix + 1);
                }
            }
            block.putInt(at + SACK_PREFIX_OFFSET, prefix);
            block.putInt(at + SACK_MESSAGE_OFFSET, (int) (id - receiver.expected()));
            block.putLong(at + SACK_BITMAP_OFFSET, bitmap);
            at += SACK_BYTES;
        }
        return at;
    }

    /** The prefix of the SACK block at byte {@code at} of the arrived {@code ackIn}. */
    int sackPrefix(int at) {
        return ws.ackIn.buffer().getInt(at + SACK_PREFIX_OFFSET);
    }

    /** The message of the SACK block at byte {@code at}, less the frame's cumulative ack. */
    int sackMessage(int at) {
        return ws.ackIn.buffer().getInt(at + SACK_MESSAGE_OFFSET);
    }

    /** The bitmap of the SACK block at byte {@code at}. */
    long sackBitmap(int at) {
        return ws.ackIn.buffer().getLong(at + SACK_BITMAP_OFFSET);
    }

    /** Whether an arrived control frame verified: no checksum, or the CRC32C of its header and the SACK blocks in {@code ackIn}. */
    boolean verified(FrameHeader h) {
        if ((h.flags & FrameHeader.FLAG_CHECKSUM) == 0) {
            return true;
        }
        FrameChecksum crc = ws.receiveChecksum.start(h);
        if (h.fragmentLength > 0) {
            crc.update(ws.ackIn.buffer(), 0, h.fragmentLength);
        }
        return crc.value() == h.checksum;
    }

    /** Points {@code placement} at bytes [index, index + length) of {@code into}. */
    static void fill(Placement placement, BufferPayload into, int index, int length) {
        placement.buffer = into.buffer();
        placement.index = index;
        placement.address = into.address() + index;
        placement.length = length;
    }
}
