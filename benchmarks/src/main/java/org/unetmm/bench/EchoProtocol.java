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
 *   H: "HELLO udp://client:port/D#d"  ─────────────▶  opens a session channel S → client/D#d
 *                                  ◀───────────────  S: "WELCOME udp://echo:port/S#s"
 *   D.connect(echo/S#s); data flows D ⇄ S, each message echoed on S
 *   H: "BYE udp://client:port/D#d"  ───────────────▶  closes S
 * </pre>
 *
 * Messages are US-ASCII text. A lost HELLO or WELCOME is sent again; a repeated HELLO gets the same
 * session. Both addresses carry their channel's connection id ({@code #d}, {@code #s}, see
 * {@link Channel}), so once connected D and S take frames from each other only: when S is closed
 * (the client said BYE, or was evicted by {@code --sessions}) and its tag goes to another client's
 * session, nothing of this client's reaches that one, nor of an echo restarted on the same port.
 * The hello goes to the well-known {@code echo/1}, without an id. The client's address must be
 * one the echo can reach: bind to the local address that routes to the echo
 * ({@link #localBindFor}), not to 0.0.0.0.
 */
final class EchoProtocol {
    /** The tag of the echo's listening channel: the first channel a fresh NIC opens. */
    static final int HELLO_TAG = 1;
    static final String HELLO = "HELLO ";
    static final String WELCOME = "WELCOME ";
    static final String BYE = "BYE ";
    static final int CONTROL_BYTES = 256;

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

    /**
     * The transport URI a client should bind to reach {@code echoAddress}: the local address the
     * kernel routes to it from, port 0. (Connecting a UDP socket sends nothing.)
     */
    static String localBindFor(String echoAddress) {
        UdpAddress echo = UdpAddress.parse(echoAddress, false);
        try (DatagramSocket probe = new DatagramSocket()) {
            probe.connect(echo.inetAddress(), echo.port());
            InetAddress local = probe.getLocalAddress();
            return UdpAddress.SCHEME + local.getHostAddress() + ":0";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a local address that routes to " + echoAddress, e);
        }
    }

    /** A client's session with an echo: its data channel, connected, and the hello channel for BYE. */
    record Session(Channel data, Channel hello) {
        void bye(Endpoint endpoint) {
            endpoint.send(hello, message(BYE + data.address()), SendPath.FIXED_SEGMENT, -2);
        }
    }

    /**
     * Runs the client side of the hello exchange on {@code endpoint} (which needs a fixed segment
     * for the control messages) and returns the connected session. Progress is driven here.
     */
    static Session connect(Endpoint endpoint, String echoAddress, Duration perTry, int tries) {
        Channel data = endpoint.openChannel();
        Channel hello = endpoint.connect(new ChannelAddress(echoAddress, HELLO_TAG));
        ByteBuffer reply = ByteBuffer.allocateDirect(CONTROL_BYTES);
        endpoint.postReceive(reply, -3);
        for (int attempt = 1; attempt <= tries; attempt++) {
            endpoint.send(hello, message(HELLO + data.address()), SendPath.FIXED_SEGMENT, -1);
            long deadline = System.nanoTime() + perTry.toNanos();
            while (System.nanoTime() - deadline < 0) {
                Completion c = endpoint.await(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
                if (c == null || c.kind() != Completion.Kind.RECEIVE) {
                    continue;
                }
                String text = c.status() == CompletionStatus.OK ? text(reply, c.offset(), c.length()) : "";
                if (c.channel() == data && text.startsWith(WELCOME)) {
                    // the session's tag and connection id, at the address this client reaches the echo by
                    ChannelAddress session = ChannelAddress.parse(text.substring(WELCOME.length()).trim().split("\\s+")[0]);
                    data.connect(new ChannelAddress(echoAddress, session.tag(), session.connection()));
                    return new Session(data, hello);
                }
                endpoint.postReceive(reply, -3);
            }
        }
        throw new IllegalStateException("no answer from an echo at " + echoAddress + "/" + HELLO_TAG + " after " + tries
                + " hellos: is 'unetmm echo --listen " + echoAddress + "' running, and can it reach " + data.address()
                + "? (choose the local address with --bind)");
    }
}
