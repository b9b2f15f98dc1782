package org.unetmm.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * What {@code unetmm stream} and {@code unetmm sink} say to each other, on unreliable channels:
 *
 * <pre>
 *  stream -> sink, on the sink's listening tag 1; every message starts with a little-endian long:
 *    seq >= 0   data: bytes 0..7 the sequence number (0, 1, 2, ...), the rest filler
 *    HELLO (-1) bytes 8..11 the message size, 12..15 the reply address's length, 16.. the reply
 *               channel's address (ASCII, udp://host:port/tag#id): where reports go
 *    END (-2)   bytes 8..15 how many data messages were sent: the sink reports its final count
 *  sink -> stream, on the stream's reply channel, every second and after END:
 *    REPORT     0..7 data messages received, 8..15 their bytes, 16..23 lost (sequence gaps),
 *               24..31 the highest sequence number seen + 1, 32..39 1 after END, else 0
 * </pre>
 *
 * A sequence gap counts as lost; a number below the next expected counts as late (reordered or
 * duplicated), never as lost twice.
 */
final class StreamProtocol {
    static final int SINK_TAG = 1;
    static final long HELLO = -1;
    static final long END = -2;
    static final int CONTROL_BYTES = 512;
    static final int REPORT_BYTES = 40;
    /** The smallest data message: it carries its sequence number. */
    static final int MIN_SIZE = 8;

    private StreamProtocol() {
    }

    static ByteBuffer le(ByteBuffer b) {
        return b.order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Writes a HELLO into {@code into} at 0; returns its length. */
    static int hello(ByteBuffer into, int size, String replyAddress) {
        byte[] text = replyAddress.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = le(into.duplicate());
        b.putLong(0, HELLO).putInt(8, size).putInt(12, text.length);
        b.put(16, text);
        return 16 + text.length;
    }

    static String helloAddress(ByteBuffer message, int offset, int length) {
        ByteBuffer b = le(message.duplicate());
        int n = b.getInt(offset + 12);
        if (n < 0 || n > length - 16) {
            return null;
        }
        byte[] text = new byte[n];
        b.get(offset + 16, text);
        return new String(text, StandardCharsets.US_ASCII);
    }

    /** The counts a sink keeps for one stream. */
    static final class Tally {
        long received;
        long bytes;
        long lost;
        long late;
        long next;

        void reset() {
            received = 0;
            bytes = 0;
            lost = 0;
            late = 0;
            next = 0;
        }

        void arrived(long seq, int length) {
            received++;
            bytes += length;
            if (seq >= next) {
                lost += seq - next;
                next = seq + 1;
            } else {
                late++;
                if (lost > 0) {
                    lost--; // it was counted lost when the gap opened
                }
            }
        }

        int report(ByteBuffer into, int at, boolean ended) {
            le(into.duplicate()).putLong(at, received).putLong(at + 8, bytes).putLong(at + 16, lost)
                    .putLong(at + 24, next).putLong(at + 32, ended ? 1 : 0);
            return REPORT_BYTES;
        }
    }
}
