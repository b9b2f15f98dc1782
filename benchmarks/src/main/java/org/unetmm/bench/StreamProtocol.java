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
 *  sink -> stream, on the stream's reply channel, in answer to HELLO, every second, every
 *  {@link #ackEvery} data messages and after END:
 *    REPORT     0..7 data messages received whole, 8..15 their bytes, 16..23 lost (sequence gaps),
 *               24..31 the highest sequence number seen + 1, 32..39 1 after END, else 0,
 *               40..47 messages TRUNCATED (longer than a posted buffer: never counted received),
 *               48..51 buffers posted, 52..55 bytes each (the largest message taken whole),
 *               56..59 SO_RCVBUF as the kernel reports it (getsockopt: twice what was granted),
 *               60..63 the window: data messages the stream may have beyond the highest one seen;
 *               0 answers a refused HELLO: messages larger than the buffers (52..55 says so), or,
 *               with buffers large enough, a sink busy with another stream
 * </pre>
 *
 * A sequence gap counts as lost; a number below the next expected counts as late (reordered or
 * duplicated), never as lost twice.
 *
 * <p><b>Flow control.</b> An unreliable stream that sends faster than the sink drains overflows
 * the sink's socket buffer, and the loss then measures the buffer, not the wire. So the sink says
 * in every report what it can hold, and the stream keeps at most {@link #window} messages beyond
 * the highest sequence number the sink has reported (the count it acknowledges, as
 * {@link UdpPeer.Window} keeps it): no more than its posted buffers, and no more bytes than half
 * the receive buffer the kernel reports (socket(7): the kernel doubles the value asked for, the
 * other half being its bookkeeping; each datagram's skb is charged at its true size). The sink
 * reports every quarter window, so the window reopens before it drains; a lost report is covered
 * by the next, and a window stalled by a lost tail reopens after the window's stall time.
 */
final class StreamProtocol {
    static final int SINK_TAG = 1;
    static final long HELLO = -1;
    static final long END = -2;
    static final int CONTROL_BYTES = 512;
    static final int REPORT_BYTES = 64;
    static final int TRUNCATED_OFFSET = 40;
    static final int BUFFERS_OFFSET = 48;
    static final int BUFFER_BYTES_OFFSET = 52;
    static final int RCVBUF_OFFSET = 56;
    static final int WINDOW_OFFSET = 60;
    /** The smallest data message: it carries its sequence number. */
    static final int MIN_SIZE = 8;

    private StreamProtocol() {
    }

    /**
     * The most {@code size}-byte messages a sink with {@code buffers} posted buffers and a receive
     * buffer the kernel reports as {@code rcvbufReported} holds at once: its buffers, and half the
     * reported receive buffer in bytes (see the class comment; 0 = a wire without one: the buffers
     * alone); at least one.
     */
    static int window(int size, int buffers, int rcvbufReported) {
        long fit = rcvbufReported <= 0 ? buffers : (rcvbufReported / 2L) / Math.max(1, size);
        return (int) Math.max(1, Math.min(buffers, fit));
    }

    /** The sink reports every this many data messages of a {@code window}-message stream: a quarter window. */
    static int ackEvery(int window) {
        return UdpPeer.Window.of(window, 1).ackEvery();
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

    /** The message size a HELLO announces. */
    static int helloSize(ByteBuffer message, int offset) {
        return le(message.duplicate()).getInt(offset + 8);
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
        long truncated;

        void reset() {
            truncated = 0;
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

        /** A message longer than its posted buffer: not received, its sequence number not trusted. */
        void truncated() {
            truncated++;
        }

        /**
         * Writes a REPORT of these counts and the sink's {@code capacity} (see {@link Capacity}) at {@code at}:
         * straight into a little-endian buffer (the sink's, once per report: nothing allocated), else through a view.
         */
        int report(ByteBuffer into, int at, boolean ended, Capacity capacity) {
            (into.order() == ByteOrder.LITTLE_ENDIAN ? into : le(into.duplicate())).putLong(at, received).putLong(at + 8, bytes).putLong(at + 16, lost)
                    .putLong(at + 24, next).putLong(at + 32, ended ? 1 : 0).putLong(at + TRUNCATED_OFFSET, truncated)
                    .putInt(at + BUFFERS_OFFSET, capacity.buffers()).putInt(at + BUFFER_BYTES_OFFSET, capacity.bufferBytes())
                    .putInt(at + RCVBUF_OFFSET, capacity.rcvbufReported()).putInt(at + WINDOW_OFFSET, capacity.window());
            return REPORT_BYTES;
        }
    }

    /**
     * What a sink can hold, as its reports say it: {@code buffers} posted buffers of {@code bufferBytes},
     * a receive buffer the kernel reports as {@code rcvbufReported} (0 off the udp wire), and the window
     * it allows the current stream.
     */
    record Capacity(int buffers, int bufferBytes, int rcvbufReported, int window) {
        static Capacity read(ByteBuffer report, int at) {
            ByteBuffer b = le(report.duplicate());
            return new Capacity(b.getInt(at + BUFFERS_OFFSET), b.getInt(at + BUFFER_BYTES_OFFSET),
                    b.getInt(at + RCVBUF_OFFSET), b.getInt(at + WINDOW_OFFSET));
        }
    }
}
