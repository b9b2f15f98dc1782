package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.ChannelConfig;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.spi.FrameHeader;

/**
 * A connected channel takes frames from its peer only: from the peer's transport address, and
 * with the connection ids the two channels had when they connected. Tags alone are small and
 * reused, so each test builds a situation where the tags match and something else does not: a
 * session tag handed to another client, a peer restarted on the same port whose first channels
 * reuse the tags, a datagram forged with every header field right from another socket. Each for
 * unreliable and reliable channels.
 */
@Timeout(60)
class ChannelIdentityTest {
    private static final Duration BOUND = Duration.ofSeconds(5);
    private static final ChannelConfig RELIABLE = ChannelConfig.builder().reliable(true)
            .initialRto(Duration.ofMillis(2)).maxRto(Duration.ofMillis(20)).maxRetransmits(1000).build();

    private final List<Nic> nics = new ArrayList<>();

    @AfterEach
    void closeAll() {
        for (Nic nic : nics) {
            nic.close();
        }
    }

    private Nic nic(String transport) {
        Nic nic = Nic.open(NicConfig.builder().transport(transport).progressMode(ProgressMode.CALLER).build());
        nics.add(nic);
        return nic;
    }

    private static ChannelConfig options(boolean reliable) {
        return reliable ? RELIABLE : ChannelConfig.unreliable();
    }

    private static Endpoint endpoint(Nic nic) {
        return nic.openEndpoint(EndpointConfig.builder().segmentBytes(64 << 10).build());
    }

    private static ByteBuffer text(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }

    private static long drops(Nic nic, DropReason reason) {
        return nic.stats().drops().get(reason);
    }

    /** Progress every NIC until {@code nic} has counted {@code count} drops of {@code reason}; fails after the bound. */
    private void awaitDrops(Nic nic, DropReason reason, long count) {
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (drops(nic, reason) < count) {
            assertThat(System.nanoTime() - deadline).as("%s counted %d %s drops within %s; drops %s", nic.transportAddress(),
                    count, reason, BOUND, nic.stats().drops()).isNegative();
            for (Nic n : nics) {
                n.progress();
            }
        }
    }

    /** Progress every NIC until a receive completes on {@code endpoint} (send completions are passed over). */
    private Completion awaitReceive(Endpoint endpoint) {
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (System.nanoTime() - deadline < 0) {
            Completion c;
            while ((c = endpoint.poll()) != null) {
                if (c.kind() == Completion.Kind.RECEIVE) {
                    return c.copy();
                }
            }
            for (Nic n : nics) {
                n.progress();
            }
        }
        throw new AssertionError("no message arrived within " + BOUND);
    }

    /** No receive has completed on {@code endpoint} (send completions are passed over). */
    private static void assertNothingReceived(Endpoint endpoint, String why) {
        Completion c;
        while ((c = endpoint.poll()) != null) {
            assertThat(c.kind()).as(why + ": got " + c).isNotEqualTo(Completion.Kind.RECEIVE);
        }
    }

    private static String read(Completion c) {
        byte[] bytes = new byte[c.length()];
        c.buffer().get(c.offset(), bytes);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    /**
     * The echo-eviction scenario: a server's session channel for client A is closed and its tag
     * goes to client B's session; A, still connected to the old session, keeps sending. The new
     * session takes nothing of A's (A is at another address), so nothing of A's reaches B's side.
     */
    @ParameterizedTest(name = "reliable={0}")
    @ValueSource(booleans = {false, true})
    void aSessionTagReusedForAnotherClientTakesNothingFromTheClientItWasTakenFrom(boolean reliable) {
        Nic server = nic("udp://127.0.0.1:0");
        Nic clientA = nic("udp://127.0.0.1:0");
        Nic clientB = nic("udp://127.0.0.1:0");
        Endpoint serverEndpoint = endpoint(server);
        Endpoint a = endpoint(clientA);
        Endpoint b = endpoint(clientB);
        serverEndpoint.openChannel(); // the listening channel takes tag 1, as an echo's does
        Channel dataA = a.openChannel(options(reliable));
        Channel dataB = b.openChannel(options(reliable));
        assertThat(dataA.tag()).as("every fresh NIC's first channel has the same tag").isEqualTo(dataB.tag());

        Channel sessionA = serverEndpoint.openChannel(options(reliable)).connect(dataA.address());
        dataA.connect(sessionA.address());
        ByteBuffer landing = ByteBuffer.allocateDirect(4096);
        serverEndpoint.postReceive(landing, 1);
        a.send(dataA, text("hello from A"), SendPath.FIXED_SEGMENT, 2);
        Completion first = awaitReceive(serverEndpoint);
        assertThat(first.channel()).isSameAs(sessionA);
        assertThat(read(first)).isEqualTo("hello from A");

        sessionA.close(); // evicted; an unreliable close frees the tag at once, a reliable one after its CLOSE is acknowledged
        awaitClosed(sessionA);
        Channel sessionB = serverEndpoint.openChannel(options(reliable)).connect(dataB.address());
        assertThat(sessionB.tag()).as("B's session reuses A's tag").isEqualTo(sessionA.tag());
        dataB.connect(sessionB.address());

        if (reliable) {
            // A's channel saw the session close: a reliable peer cannot keep sending. Its successor on A's NIC,
            // connected to the session address A knew, reuses A's tag as well and is what keeps sending
            assertThat(dataA.isClosed()).isTrue();
            dataA = a.openChannel(options(reliable)).connect(sessionA.address());
            assertThat(dataA.tag()).isEqualTo(dataB.tag());
        }
        serverEndpoint.postReceive(landing, 3);
        for (int i = 0; i < 10; i++) {
            a.send(dataA, text("A's message " + i), SendPath.FIXED_SEGMENT, 10 + i);
        }
        DropReason expected = DropReason.WRONG_PEER_ADDRESS;
        awaitDrops(server, expected, reliable ? 1 : 10);
        assertNothingReceived(serverEndpoint, "B's session took a frame of A's");
        assertThat(drops(server, DropReason.WRONG_SOURCE)).as("the tags matched: only the address tells A from B").isZero();

        b.send(dataB, text("hello from B"), SendPath.FIXED_SEGMENT, 30);
        Completion fromB = awaitReceive(serverEndpoint);
        assertThat(fromB.channel()).isSameAs(sessionB);
        assertThat(fromB.status()).isEqualTo(CompletionStatus.OK);
        assertThat(read(fromB)).isEqualTo("hello from B");
    }

    private void awaitClosed(Channel channel) {
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (!channel.isClosed()) {
            assertThat(System.nanoTime() - deadline).as("channel closed within " + BOUND).isNegative();
            for (Nic n : nics) {
                n.progress();
            }
        }
    }

    /**
     * The restart scenario: the peer's NIC closes and a new one binds the same port; its first
     * channel reuses the old one's tag and connects to the same client channel. Same address,
     * same tags: only the connection ids tell them apart, in both directions.
     */
    @ParameterizedTest(name = "reliable={0}")
    @ValueSource(booleans = {false, true})
    void aPeerRestartedOnTheSamePortIsNotTakenForTheChannelItReplaced(boolean reliable) {
        Nic client = nic("udp://127.0.0.1:0");
        Nic before = nic("udp://127.0.0.1:0");
        String peerAddress = before.transportAddress();
        Endpoint c = endpoint(client);
        Channel clientChannel = c.openChannel(options(reliable));
        Channel old = endpoint(before).openChannel(options(reliable)).connect(clientChannel.address());
        clientChannel.connect(old.address());
        ByteBuffer landing = ByteBuffer.allocateDirect(4096);
        c.postReceive(landing, 1);
        old.endpoint().send(old, text("from the first peer"), SendPath.FIXED_SEGMENT, 2);
        assertThat(read(awaitReceive(c))).isEqualTo("from the first peer");

        before.close(); // abrupt: the client is not told
        nics.remove(before);
        Nic after = nic(peerAddress);
        Endpoint restarted = endpoint(after);
        Channel successor = restarted.openChannel(options(reliable)).connect(clientChannel.address());
        assertThat(successor.tag()).as("the restarted NIC's first channel reuses the tag").isEqualTo(old.tag());

        c.postReceive(landing, 3);
        restarted.send(successor, text("from the restarted peer"), SendPath.FIXED_SEGMENT, 4);
        awaitDrops(client, DropReason.WRONG_CONNECTION, 1);
        assertNothingReceived(c, "the client took the restarted peer for the one it connected to");

        ByteBuffer restartedLanding = ByteBuffer.allocateDirect(4096);
        restarted.postReceive(restartedLanding, 5);
        c.send(clientChannel, text("for the first peer"), SendPath.FIXED_SEGMENT, 6);
        awaitDrops(after, DropReason.WRONG_CONNECTION, 1);
        assertNothingReceived(restarted, "the restarted peer took a frame meant for the channel it replaced");
        assertThat(drops(client, DropReason.WRONG_PEER_ADDRESS) + drops(after, DropReason.WRONG_PEER_ADDRESS))
                .as("same port: the address alone cannot tell them apart").isZero();
    }

    /**
     * A datagram with every header field right — tags, both connection ids, a valid checksum — but
     * sent from another UDP socket (another port, or another address) is not the peer's.
     */
    @ParameterizedTest(name = "reliable={0}, from {1}")
    @CsvSource({"false, 127.0.0.1", "false, 127.0.0.2", "true, 127.0.0.1", "true, 127.0.0.2"})
    void aFrameForgedWithTheRightTagsFromAnotherSocketIsDropped(boolean reliable, String attackerHost) throws Exception {
        Nic victimNic = nic("udp://127.0.0.1:0");
        Nic peerNic = nic("udp://127.0.0.1:0");
        Endpoint victim = endpoint(victimNic);
        Endpoint peer = endpoint(peerNic);
        Channel here = victim.openChannel(options(reliable));
        Channel there = peer.openChannel(options(reliable));
        here.connect(there.address());
        there.connect(here.address());
        ByteBuffer landing = ByteBuffer.allocateDirect(4096);
        victim.postReceive(landing, 1);

        try (DatagramSocket attacker = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(attackerHost), 0))) {
            byte[] datagram = forged(there.address(), here.address(), reliable, "forged");
            attacker.send(new DatagramPacket(datagram, datagram.length, new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    UdpTransport.of(victimNic).boundAddress().port())));
            awaitDrops(victimNic, DropReason.WRONG_PEER_ADDRESS, 1);
        }
        assertNothingReceived(victim, "the victim took the forged frame");

        peer.send(there, text("genuine"), SendPath.FIXED_SEGMENT, 2);
        Completion genuine = awaitReceive(victim);
        assertThat(genuine.status()).isEqualTo(CompletionStatus.OK);
        assertThat(read(genuine)).as("the peer's own message, the channel unharmed").isEqualTo("genuine");
    }

    /**
     * A channel connected to an address without a connection id (a well-known one, or the old
     * form) takes the id of the peer's first frame and holds the peer to it: a second channel at
     * the same address and tag, with another id, is refused; and a listening channel refuses a
     * frame naming another channel's id (meant for a previous holder of its tag).
     */
    @ParameterizedTest(name = "reliable={0}")
    @ValueSource(booleans = {false, true})
    void aPeerWhoseIdWasNotGivenIsHeldToTheIdOfItsFirstFrame(boolean reliable) throws Exception {
        Nic nic = nic("udp://127.0.0.1:0");
        Endpoint endpoint = endpoint(nic);
        ByteBuffer landing = ByteBuffer.allocateDirect(4096);
        try (DatagramSocket peer = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), UdpTransport.of(nic).boundAddress().port());
            Channel listening = endpoint.openChannel();
            ChannelAddress stale = new ChannelAddress(listening.address().transportAddress(), listening.tag(),
                    listening.address().connection() ^ 1);
            ChannelAddress first = new ChannelAddress("udp://127.0.0.1:" + peer.getLocalPort(), 7, 0x0F1E_2D3C_4B5A_6978L);
            byte[] forPrevious = forged(first, stale, false, "for the tag's previous holder");
            peer.send(new DatagramPacket(forPrevious, forPrevious.length, to));
            endpoint.postReceive(landing, 1);
            awaitDrops(nic, DropReason.WRONG_CONNECTION, 1);
            assertNothingReceived(endpoint, "a listening channel took a frame naming another channel");

            Channel channel = endpoint.openChannel(options(reliable))
                    .connect(new ChannelAddress(first.transportAddress(), first.tag())); // no id: learnt from the first frame
            byte[] hello = forged(first, new ChannelAddress(channel.address().transportAddress(), channel.tag()), reliable, "first");
            peer.send(new DatagramPacket(hello, hello.length, to));
            Completion accepted = awaitReceive(endpoint);
            assertThat(accepted.channel()).isSameAs(channel);
            assertThat(read(accepted)).isEqualTo("first");
            assertThat(channel.remote().connection()).as("the id learnt").isEqualTo(first.connection());

            ChannelAddress other = new ChannelAddress(first.transportAddress(), first.tag(), first.connection() + 1);
            byte[] impostor = forged(other, channel.address(), reliable, "another channel, same address and tag");
            peer.send(new DatagramPacket(impostor, impostor.length, to));
            endpoint.postReceive(landing, 2);
            awaitDrops(nic, DropReason.WRONG_CONNECTION, 2);
            assertNothingReceived(endpoint, "the channel took a second peer channel at the same address and tag");
        }
    }

    /** A first-fragment DATA frame from {@code from} to {@code to}, valid in every field (message 0, as a fresh channel's). */
    private static byte[] forged(ChannelAddress from, ChannelAddress to, boolean reliable, String payload) {
        FrameHeader h = new FrameHeader();
        h.type = FrameHeader.TYPE_DATA;
        h.flags = reliable ? FrameHeader.FLAG_RELIABLE | FrameHeader.FLAG_ACK : 0;
        h.sourceTag = from.tag();
        h.destinationTag = to.tag();
        h.sourceConnection = from.connection();
        h.destinationConnection = to.connection();
        byte[] bytes = payload.getBytes(StandardCharsets.US_ASCII);
        h.messageLength = bytes.length;
        h.fragmentLength = bytes.length;
        byte[] datagram = new byte[WireFrame.HEADER_LENGTH + bytes.length];
        WireFrame.encode(h, ByteBuffer.wrap(datagram).order(ByteOrder.LITTLE_ENDIAN), new CRC32C());
        System.arraycopy(bytes, 0, datagram, WireFrame.HEADER_LENGTH, bytes.length);
        return datagram;
    }
}
