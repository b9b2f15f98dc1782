package org.unetmm.rpc.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.unetmm.ChannelAddress;

/**
 * The bytes of the RPC protocol inside unetmm messages, little-endian.
 *
 * <p>A request and a response start with a 16-byte header; the payload follows it in the same
 * message (the client gathers header and request buffer in one zero-copy send):
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                        request id                             |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |  request: method id           response: status (0 = OK)       |  8
 *  +---------------------------------------------------------------+
 *  |                        reserved (0)                           | 12
 *  +---------------------------------------------------------------+
 *  |                        payload ...                            | 16
 * </pre>
 *
 * <p>Connection setup goes over unreliable channels: the client sends HELLO to the server's
 * listening channel (unconnected, so it takes messages from anyone), naming its reliable channel
 * and a listening channel of its own; the server connects a reliable channel to the client's and
 * answers WELCOME, naming it, to the client's listening channel. HELLO is repeated until WELCOME
 * comes; a repeated HELLO gets the same server channel.
 * <pre>
 *   0 magic ('UHLO' or 'UWLC')   4 version (1)   8 nonce (8)
 *  16 first address length (2), its UTF-8 bytes, then (HELLO only) the second the same way
 *  HELLO:   the client's reliable channel, the client's listening channel
 *  WELCOME: the server's reliable channel for this client
 * </pre>
 */
public final class RpcWire {
    public static final int HEADER_LENGTH = 16;
    public static final int ID_OFFSET = 0;
    public static final int METHOD_OFFSET = 8;
    public static final int STATUS_OFFSET = 8;
    public static final int RESERVED_OFFSET = 12;

    public static final int HELLO_MAGIC = 0x4F4C4855; // "UHLO"
    public static final int WELCOME_MAGIC = 0x434C5755; // "UWLC"
    public static final int VERSION = 1;
    public static final int HANDSHAKE_CAPACITY = 1024;

    private RpcWire() {
    }

    public static void writeHeader(ByteBuffer header, long id, int methodOrStatus) {
        ByteBuffer b = header.order() == ByteOrder.LITTLE_ENDIAN ? header : header.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(ID_OFFSET, id);
        b.putInt(METHOD_OFFSET, methodOrStatus);
        b.putInt(RESERVED_OFFSET, 0);
    }

    public static long id(ByteBuffer message, int offset) {
        return littleLong(message, offset + ID_OFFSET);
    }

    public static int word(ByteBuffer message, int offset) {
        return littleInt(message, offset + METHOD_OFFSET);
    }

    private static long littleLong(ByteBuffer b, int index) {
        long v = b.getLong(index);
        return b.order() == ByteOrder.LITTLE_ENDIAN ? v : Long.reverseBytes(v);
    }

    private static int littleInt(ByteBuffer b, int index) {
        int v = b.getInt(index);
        return b.order() == ByteOrder.LITTLE_ENDIAN ? v : Integer.reverseBytes(v);
    }

    /** Writes a HELLO or WELCOME into {@code into} from index 0; returns its length. */
    public static int writeHandshake(ByteBuffer into, int magic, long nonce, ChannelAddress first, ChannelAddress second) {
        ByteBuffer b = into.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear();
        b.putInt(magic).putInt(VERSION).putLong(nonce);
        putAddress(b, first);
        if (second != null) {
            putAddress(b, second);
        }
        return b.position();
    }

    private static void putAddress(ByteBuffer b, ChannelAddress address) {
        byte[] text = address.toString().getBytes(StandardCharsets.UTF_8);
        b.putShort((short) text.length).put(text);
    }

    /** A HELLO or WELCOME read back: null when the bytes are not one (wrong magic, version or length). */
    public record Handshake(int magic, long nonce, ChannelAddress first, ChannelAddress second) {
    }

    public static Handshake readHandshake(ByteBuffer message, int offset, int length) {
        try {
            ByteBuffer b = message.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            b.limit(offset + length).position(offset);
            int magic = b.getInt();
            if ((magic != HELLO_MAGIC && magic != WELCOME_MAGIC) || b.getInt() != VERSION) {
                return null;
            }
            long nonce = b.getLong();
            ChannelAddress first = getAddress(b);
            ChannelAddress second = magic == HELLO_MAGIC ? getAddress(b) : null;
            return new Handshake(magic, nonce, first, second);
        } catch (RuntimeException e) {
            return null; // short, or an address that does not parse: not a handshake
        }
    }

    private static ChannelAddress getAddress(ByteBuffer b) {
        int length = b.getShort() & 0xFFFF;
        byte[] text = new byte[length];
        b.get(text);
        return ChannelAddress.parse(new String(text, StandardCharsets.UTF_8));
    }
}
