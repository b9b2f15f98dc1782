package org.unetmm.nic.udp;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import org.unetmm.pinning.internal.Libc;
import org.unetmm.spi.SourceKey;

/**
 * An IPv4 socket address as the udp wire names it: {@code udp://host:port}. Parsed once (at
 * bind or connect), never on the data path.
 *
 * @param ip   the IPv4 address, as the big-endian int of its four bytes
 * @param port 0..65535 (0 only where binding picks one)
 */
public record UdpAddress(int ip, int port) {
    /** The prefix every udp transport address and URI starts with. */
    public static final String SCHEME = "udp://";
    private static final int AF_INET6 = 10;

    /**
     * Checks the port; every int is a valid IPv4 address.
     *
     * @param ip   any int: the address's four bytes, big-endian
     * @param port 0 to 65535
     * @throws IllegalArgumentException if the port is outside 0..65535
     */
    public UdpAddress {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("UDP port must be in 0..65535, got " + port);
        }
    }

    /**
     * Parses {@code udp://host:port} (no query). {@code host} is an IPv4 literal or a name that
     * resolves to one (resolved here, once).
     *
     * @param text            the address, e.g. {@code udp://127.0.0.1:7000}
     * @param portZeroAllowed whether port 0 (ephemeral) is meaningful here: true for a bind, false for a peer
     * @return the parsed address, never null
     * @throws IllegalArgumentException if the text is null, not {@code udp://host:port}, has a bad port, a host
     *         that does not resolve or resolves to IPv6; the message names the fix
     */
    public static UdpAddress parse(String text, boolean portZeroAllowed) {
        if (text == null || !text.startsWith(SCHEME)) {
            throw new IllegalArgumentException("'" + text + "' is not a udp address: expected udp://host:port,"
                    + " e.g. udp://127.0.0.1:7000");
        }
        String rest = text.substring(SCHEME.length());
        int colon = rest.lastIndexOf(':');
        if (colon <= 0 || colon == rest.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' has no host:port: expected udp://host:port,"
                    + " e.g. udp://127.0.0.1:7000 (port 0 binds an ephemeral port)");
        }
        String host = rest.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(rest.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "': the port after ':' must be a number in 0..65535");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("'" + text + "': UDP port must be in 0..65535, got " + port);
        }
        if (port == 0 && !portZeroAllowed) {
            throw new IllegalArgumentException("'" + text + "': a peer cannot be at port 0; use the port the peer's"
                    + " NIC reports in its transport address");
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "': cannot resolve host '" + host + "'; use an IPv4 literal"
                    + " such as 127.0.0.1");
        }
        if (!(address instanceof Inet4Address)) {
            throw new IllegalArgumentException("'" + text + "': the udp wire speaks IPv4 only; '" + host
                    + "' is " + address.getHostAddress());
        }
        byte[] b = address.getAddress();
        return new UdpAddress(((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF), port);
    }

    /**
     * Whether this address is in 127.0.0.0/8.
     *
     * @return true for a loopback address
     */
    public boolean isLoopback() {
        return (ip >>> 24) == 127;
    }

    /**
     * Whether this is 0.0.0.0, which binds every local interface.
     *
     * @return true for the wildcard address
     */
    public boolean isWildcard() {
        return ip == 0;
    }

    /**
     * The IP as a JDK address, without a name lookup; allocates, so not for the data path.
     *
     * @return an {@link Inet4Address}, never null
     */
    public InetAddress inetAddress() {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip});
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are always an IPv4 address", e);
        }
    }

    /**
     * This IP with another port, e.g. a wildcard bind's address with the port the kernel picked.
     *
     * @param newPort 0..65535
     * @return a new address; this one is unchanged
     * @throws IllegalArgumentException if the port is outside 0..65535
     */
    public UdpAddress withPort(int newPort) {
        return new UdpAddress(ip, newPort);
    }

    /**
     * The first 8 bytes of this address's {@code struct sockaddr_in} as a little-endian long:
     * {@code sin_family} (host order), {@code sin_port} and {@code sin_addr} (network order).
     * The 8 bytes after it ({@code sin_zero}) are zero.
     *
     * @return the word, ready to store little-endian at a {@code sockaddr_in}'s start
     */
    public long sockaddrWord() {
        long family = 2; // AF_INET
        long portBytes = ((port >>> 8) & 0xFF) | ((port & 0xFF) << 8);
        long ipBytes = Integer.reverseBytes(ip) & 0xFFFF_FFFFL;
        return family | (portBytes << 16) | (ipBytes << 32);
    }

    /**
     * The whole {@code struct sockaddr_in}, for bind.
     *
     * @return a fresh 16-byte array the caller owns
     */
    public byte[] sockaddr() {
        byte[] s = new byte[16];
        long word = sockaddrWord();
        for (int i = 0; i < 8; i++) {
            s[i] = (byte) (word >>> (8 * i));
        }
        return s;
    }

    /**
     * Reads the address back from the first 8 bytes of a sockaddr_in (as {@link #sockaddrWord()} lays them).
     *
     * @param word the first 8 bytes, loaded little-endian; the family is not checked
     * @return the address it names
     */
    public static UdpAddress fromSockaddrWord(long word) {
        int port = (int) (((word >>> 16) & 0xFF) << 8 | ((word >>> 24) & 0xFF));
        int ip = Integer.reverseBytes((int) (word >>> 32));
        return new UdpAddress(ip, port);
    }

    /**
     * The IP in dotted-quad form, e.g. {@code 127.0.0.1}.
     *
     * @return the dotted quad, never null
     */
    public String host() {
        return (ip >>> 24) + "." + ((ip >>> 16) & 0xFF) + "." + ((ip >>> 8) & 0xFF) + "." + (ip & 0xFF);
    }

    @Override
    public String toString() {
        return SCHEME + host() + ":" + port;
    }

    /**
     * The sender a receive's source sockaddr at {@code at} of {@code memory} names, as
     * {@link SourceKey}'s udp encoding: exact for IPv4 and IPv6 (family, port, scope id, address).
     */
    static void sourceKey(ByteBuffer memory, int at, SourceKey into) {
        int family = memory.getShort(at) & 0xFFFF;
        if (family == Libc.AF_INET) {
            ipv4Key(memory.getLong(at), into);
        } else if (family == AF_INET6) {
            long portAndScope = (memory.getShort(at + 2) & 0xFFFFL) << 16
                    | (memory.getInt(at + 24) & 0xFFFF_FFFFL) << 32;
            into.set(family | portAndScope, memory.getLong(at + 8), memory.getLong(at + 16));
        } else {
            into.clear(); // not a datagram from an address: matches no route
        }
    }

    /** The key of an IPv4 sender from the first 8 bytes of its sockaddr_in (family, port, address). */
    static SourceKey ipv4Key(long sockaddrWord, SourceKey into) {
        return into.set(sockaddrWord & 0xFFFF_FFFFL, sockaddrWord >>> 32, 0);
    }
}
