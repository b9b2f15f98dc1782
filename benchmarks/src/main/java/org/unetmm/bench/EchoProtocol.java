package org.unetmm.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.SendPath;
import org.unetmm.nic.udp.UdpAddress;

/**
 * How a client finds its own channel on {@code unetmm echo}: a hello exchange on the echo's
 * well-known tag, so neither side needs the other's tags in advance.
 *
 * <pre>
 *   client                                           echo (tag 1 listens: an unconnected channel)
 *   opens D (unconnected: it listens), and H → echo/1
 *   H: "HELLO udp://client:port/D 64"  ────────────▶  opens a session channel S → client/D, with
 *                                                     receive buffers for messages of 64 B
 *                                    ◀────────────  S: "WELCOME udp://echo:port/S 4194304"
 *   D.connect(echo/S); data flows D ⇄ S, each message echoed on S
 *                                    ◀────────────  S: "GONE evicted: ..." (the echo dropped the
 *                                                     session: too many clients, or no memory)
 *   H: "BYE udp://client:port/D"       ────────────▶  closes S
 * </pre>
 *
 * HELLO names the client's data channel and the largest message it will send; WELCOME names the
 * session channel and the echo's largest message ({@code --max-message}), so a client can refuse a
 * size the echo would drop before it sends any. GONE tells a client its session is over; it arrives
 * on D like an echo, and is told apart because a client's messages never start with its text.
 * Messages are US-ASCII text, addresses written as {@link ChannelAddress#toString()} and read with
 * {@link ChannelAddress#parse}. Both addresses carry their channel's connection id
 * ({@code udp://client:port/D#d}, see {@link org.unetmm.Channel}), so once connected D and S take
 * frames from each other only: when S is closed (BYE, or evicted by {@code --sessions}) and its
 * tag goes to another client's session, nothing of this client's reaches that one, nor of an echo
 * restarted on the same port. The hello goes to the well-known {@code echo/1}, without an id. A lost HELLO or WELCOME is sent again; a repeated HELLO gets the same
 * session. The client's address must be one the echo can reach: bind to the local address that
 * routes to the echo ({@link #localBindFor}), not to 0.0.0.0.
 */
final class EchoProtocol {
    /** The tag of the echo's listening channel: the first channel a fresh NIC opens. */
    static final int HELLO_TAG = 1;
    static final String HELLO = "HELLO ";
    static final String WELCOME = "WELCOME ";
    static final String GONE = "GONE ";
    static final String BYE = "BYE ";
    static final int CONTROL_BYTES = 256;
    /**
     * Cookies of the control traffic, apart from the data path's (which count up from 0): a
     * completion with one of these is a hello, a bye or a control reply, never a message buffer.
     */
    static final long HELLO_COOKIE = -1;
    static final long BYE_COOKIE = -2;
    static final long REPLY_COOKIE = -3;
    /** The echo's WELCOME on a new session (a control send, like a hello). */
    static final long WELCOME_COOKIE = -5;

    private EchoProtocol() {
    }

    static String text(ByteBuffer buffer, int offset, int length) {
        byte[] bytes = new byte[Math.min(length, CONTROL_BYTES)];
        buffer.get(offset, bytes);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    static ByteBuffer message(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }

    /** True when {@code length} bytes at {@code offset} are a GONE notice. */
    static boolean isGone(ByteBuffer buffer, int offset, int length) {
        return length > GONE.length() && length <= CONTROL_BYTES && text(buffer, offset, length).startsWith(GONE);
    }

    /**
     * The transport URI a client should bind to reach {@code echoAddress}: the local address the
     * kernel routes to it from, port 0. (Connecting a UDP socket sends nothing.)
     */
    static String localBindFor(String echoAddress) {
        if (echoAddress.startsWith("shm:")) {
            return "shm:"; // a client NIC of the same host, its name drawn fresh
        }
        UdpAddress echo = UdpAddress.parse(echoAddress, false);
        try (DatagramSocket probe = new DatagramSocket()) {
            probe.connect(echo.inetAddress(), echo.port());
            InetAddress local = probe.getLocalAddress();
            return UdpAddress.SCHEME + local.getHostAddress() + ":0";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a local address that routes to " + echoAddress, e);
        }
    }

    /** The echo's side of a HELLO: the client's data channel and the largest message it will send. */
    record Hello(ChannelAddress client, int largestMessage) {
        /** Parses the text after "HELLO "; throws IllegalArgumentException when it is not a hello. */
        static Hello parse(String text) {
            String[] words = text.trim().split(" ");
            if (words.length != 2) {
                throw new IllegalArgumentException("a hello is 'HELLO <channel address> <largest message>', got '" + text + "'");
            }
            return new Hello(ChannelAddress.parse(words[0]), Integer.parseInt(words[1]));
        }
    }

    /** The WELCOME an echo sends on a new session channel. */
    static String welcome(Channel session, int maxMessage) {
        return WELCOME + session.address() + " " + maxMessage;
    }

    /** A client's session with an echo: its data channel, connected, the hello channel for BYE, the echo's largest message. */
    record Session(Channel data, Channel hello, int maxMessage) {
        void bye(Endpoint endpoint) {
            endpoint.send(hello, message(BYE + data.address()), SendPath.FIXED_SEGMENT, BYE_COOKIE);
        }
    }

    /**
     * Runs the client side of the hello exchange on {@code endpoint} (which needs a fixed segment
     * for the control messages) and returns the connected session. Progress is driven here.
     */
    static Session connect(Endpoint endpoint, String echoAddress, int largestMessage, Duration perTry, int tries) {
        Channel data = endpoint.openChannel();
        Channel hello = endpoint.connect(new ChannelAddress(echoAddress, HELLO_TAG));
        ByteBuffer reply = ByteBuffer.allocateDirect(CONTROL_BYTES);
        endpoint.postReceive(reply, REPLY_COOKIE);
        for (int attempt = 1; attempt <= tries; attempt++) {
            endpoint.send(hello, message(HELLO + data.address() + " " + largestMessage), SendPath.FIXED_SEGMENT, HELLO_COOKIE);
            long deadline = System.nanoTime() + perTry.toNanos();
            while (System.nanoTime() - deadline < 0) {
                Completion c = endpoint.await(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
                if (c == null || c.kind() != Completion.Kind.RECEIVE) {
                    continue;
                }
                String text = c.status() == CompletionStatus.OK ? text(reply, c.offset(), c.length()) : "";
                if (c.channel() == data && text.startsWith(WELCOME)) {
                    String[] words = text.substring(WELCOME.length()).trim().split(" ");
                    data.connect(reachable(echoAddress, ChannelAddress.parse(words[0])));
                    return new Session(data, hello, Integer.parseInt(words[1]));
                }
                if (c.channel() == data && text.startsWith(GONE)) {
                    throw new IllegalStateException("the echo at " + echoAddress + " refused the session: "
                            + text.substring(GONE.length()).trim());
                }
                endpoint.postReceive(reply, REPLY_COOKIE);
            }
        }
        throw new IllegalStateException("no answer from an echo at " + echoAddress + "/" + HELLO_TAG + " after " + tries
                + " hellos: is 'unetmm echo --listen " + echoAddress + "' running, and can it reach " + data.address()
                + "? (choose the local address with --bind)");
    }

    /**
     * The session channel as the client reaches it: the echo names it by the address it is bound
     * to, which may be a wildcard (0.0.0.0); the client reaches it where it sent the hello.
     */
    private static ChannelAddress reachable(String echoAddress, ChannelAddress named) {
        return new ChannelAddress(echoAddress, named.tag(), named.connection()); // the session's id, so only it is heard
    }
}
