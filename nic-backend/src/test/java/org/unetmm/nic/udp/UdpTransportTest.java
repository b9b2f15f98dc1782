package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.TransportException;
import org.unetmm.pinning.KernelException;
import org.unetmm.pinning.ProcessStatus;
import org.unetmm.spi.FrameHeader;

/** The udp wire within one JVM: binding, configuration, MTU, gather limits, listening channels, lost fragments. */
@Timeout(60)
class UdpTransportTest {
    private final long baseline = ProcessStatus.vmLckBytes();
    private Nic a;
    private Nic b;

    private static Nic open(String uri) {
        return Nic.open(NicConfig.builder().transport(uri).progressMode(ProgressMode.CALLER).build());
    }

    @AfterEach
    void close() {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after the NICs closed").isEqualTo(baseline);
    }

    /** Drives both NICs until {@code endpoint} reports a receive. */
    private Completion receive(Endpoint endpoint) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() - deadline < 0) {
            a.progress();
            if (b != null) {
                b.progress();
            }
            Completion c = endpoint.poll();
            if (c != null && c.kind() == Completion.Kind.RECEIVE) {
                return c;
            }
        }
        throw new AssertionError("no message within 5 s");
    }

    @Test
    void anEphemeralPortIsReportedAsTheRealBoundPort() throws Exception {
        a = open("udp://127.0.0.1:0");
        UdpAddress bound = UdpTransport.of(a).boundAddress();
        assertThat(bound.port()).isPositive();
        assertThat(a.transportAddress()).isEqualTo("udp://127.0.0.1:" + bound.port());
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            probe.send(new DatagramPacket(new byte[3], 3, InetAddress.getLoopbackAddress(), bound.port()));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (UdpTransport.of(a).stats().datagramsReceived() == 0) {
                assertThat(System.nanoTime() - deadline).as("a datagram sent to the reported port arrives").isNegative();
                a.progress();
            }
        }
        assertThat(UdpTransport.of(a).stats().drops(WireDropReason.SHORT_DATAGRAM)).isEqualTo(1);
    }

    @Test
    void uriOptionsAreValidatedWhenTheNicOpensAndNameTheFix() {
        assertThatThrownBy(() -> open("udp://127.0.0.1:0?rcvbuf=12")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rcvbuf must be in");
        assertThatThrownBy(() -> open("udp://127.0.0.1:0?speed=fast")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("known keys are");
        assertThatThrownBy(() -> open("udp://127.0.0.1:0?batch=x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("whole number");
        assertThatThrownBy(() -> open("udp://127.0.0.1:70000")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0..65535");
        assertThatThrownBy(() -> open("udp://[::1]:7000")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("IPv4");
        assertThatThrownBy(() -> open("udp://127.0.0.1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("host:port");
        assertThatThrownBy(() -> open("udp://127.0.0.1:0?messages=0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("messages (messages one poll completes) must be in 1..65536");
        UdpConfig config = UdpConfig.parse("udp://127.0.0.1:7000?rcvbuf=1048576&batch=8&messages=3&copybreak=0&wait=50");
        assertThat(config.receiveBufferBytes()).isEqualTo(1 << 20);
        assertThat(config.receiveBatch()).isEqualTo(8);
        assertThat(config.pollMessages()).isEqualTo(3);
        assertThat(UdpConfig.parse("udp://127.0.0.1:7000").pollMessages()).isEqualTo(UdpConfig.DEFAULT_POLL_MESSAGES);
        assertThat(config.copyBreak()).isZero();
        assertThat(config.waitMicros()).isEqualTo(50);
        assertThat(UdpConfig.parse(config.toUri())).isEqualTo(config);
    }

    @Test
    void aPortInUseFailsAtOpenSayingSo() {
        a = open("udp://127.0.0.1:0");
        assertThatThrownBy(() -> open(a.transportAddress())).isInstanceOf(TransportException.class)
                .hasMessageContaining("port is in use").hasCauseInstanceOf(KernelException.class);
    }

    @Test
    void channelAddressesAreUdpHostPortTagAndPeersMustHaveAPort() {
        a = open("udp://127.0.0.1:0");
        Endpoint endpoint = a.openEndpoint();
        Channel channel = endpoint.openChannel();
        assertThat(ChannelAddress.parse(channel.address().toString())).isEqualTo(channel.address());
        assertThat(channel.address().toString()).isEqualTo(a.transportAddress() + "/" + channel.tag() + "#"
                + String.format("%016x", channel.address().connection()));
        assertThat(channel.address().connection()).as("every channel has a connection id").isNotZero();
        assertThat(ChannelAddress.parse(a.transportAddress() + "/" + channel.tag()))
                .as("the form without a connection id still parses: a well-known address")
                .isEqualTo(new ChannelAddress(a.transportAddress(), channel.tag(), 0));
        assertThatThrownBy(() -> endpoint.openChannel().connect(new ChannelAddress("udp://127.0.0.1:0", 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port 0");
    }

    @Test
    void socketBuffersAndMtuHaveUsefulDefaults() {
        a = open("udp://127.0.0.1:0");
        UdpStats stats = UdpTransport.of(a).stats();
        assertThat(a.mtu()).as("loopback: the largest datagram less the header").isEqualTo(65_507 - WireFrame.HEADER_LENGTH);
        if (ProcessStatus.hasCapIpcLock()) { // root: SO_RCVBUFFORCE lifts the sysctl cap
            assertThat(stats.receiveBufferBytes()).isGreaterThanOrEqualTo(UdpConfig.DEFAULT_BUFFER_BYTES);
        }
        assertThat(UdpTransport.defaultMtu(UdpAddress.parse("udp://0.0.0.0:0", true))).isBetween(64, WireFrame.MAX_FRAGMENT);
    }

    @Test
    void nicConfigMtuCutsMessagesIntoSmallerFragmentsAcrossBothReceivePaths() {
        // gro=false: with GRO the 11 fragments (one GSO run) arrive whole and are copied from the slot (GsoGroTest)
        for (String options : new String[] {"?copybreak=0&gro=false", "?gro=false"}) {
            a = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0" + options).mtu(1000)
                    .progressMode(ProgressMode.CALLER).build());
            Endpoint x = a.openEndpoint();
            Endpoint y = a.openEndpoint();
            Channel xy = x.openChannel();
            Channel yx = y.openChannel();
            xy.connect(yx.address());
            yx.connect(xy.address());
            ByteBuffer message = ByteBuffer.allocateDirect(10_500);
            EchoExchange.fill(message, 10_500, 5);
            ByteBuffer target = ByteBuffer.allocateDirect(16_384);
            y.postReceive(target, 1);
            assertThat(x.send(xy, message, 0, 10_500, SendPath.PINNED, 2).isAccepted()).isTrue();
            Completion r = receive(y);
            assertThat(r.status()).isEqualTo(CompletionStatus.OK);
            assertThat(r.length()).isEqualTo(10_500);
            assertThat(target.slice(0, 10_500)).isEqualTo(message.slice(0, 10_500));
            UdpStats stats = UdpTransport.of(a).stats();
            assertThat(stats.datagramsSent()).isEqualTo(11);
            if (!options.contains("copybreak")) {
                assertThat(stats.framesCopied()).as("1000-byte fragments are below the copy break").isEqualTo(11);
            } else {
                assertThat(stats.framesPlaced()).as("copybreak=0 places every fragment").isEqualTo(11);
            }
            a.close();
        }
        a = null;
    }

    @Test
    void aGatherOfMorePiecesThanOneSendmsgTakesIsStagedAndArrivesIntact() {
        a = open("udp://127.0.0.1:0");
        Endpoint x = a.openEndpoint(EndpointConfig.builder().maxScatter(1024).build());
        Endpoint y = a.openEndpoint();
        Channel xy = x.openChannel();
        Channel yx = y.openChannel();
        xy.connect(yx.address());
        yx.connect(xy.address());
        ByteBuffer whole = ByteBuffer.allocateDirect(1024 * 8);
        EchoExchange.fill(whole, whole.capacity(), 11);
        ByteBuffer[] buffers = new ByteBuffer[1024];
        int[] offsets = new int[1024];
        int[] lengths = new int[1024];
        for (int i = 0; i < 1024; i++) {
            buffers[i] = whole;
            offsets[i] = i * 8;
            lengths[i] = 8;
        }
        ByteBuffer target = ByteBuffer.allocateDirect(whole.capacity());
        y.postReceive(target, 1);
        assertThat(x.sendGather(xy, buffers, offsets, lengths, 1024, SendPath.PINNED, 2).isAccepted()).isTrue();
        Completion r = receive(y);
        assertThat(r.length()).isEqualTo(whole.capacity());
        assertThat(target).isEqualTo(whole.duplicate().clear());
        assertThat(UdpTransport.of(a).stats().gatherCopies()).as("1024 pieces + the header exceed UIO_MAXIOV").isEqualTo(1);
    }

    @Test
    void anUnconnectedChannelListensSoAServerLearnsWhoCalled() {
        a = open("udp://127.0.0.1:0");
        b = open("udp://127.0.0.1:0");
        Endpoint server = a.openEndpoint();
        Channel listening = server.openChannel();
        Endpoint client = b.openEndpoint();
        Channel reply = client.openChannel();
        Channel hello = client.connect(listening.address());
        ByteBuffer target = ByteBuffer.allocateDirect(256);
        server.postReceive(target, 1);
        byte[] text = ("HELLO " + reply.address()).getBytes(StandardCharsets.US_ASCII);
        ByteBuffer message = ByteBuffer.allocateDirect(text.length).put(text).flip();
        client.send(hello, message, SendPath.FIXED_SEGMENT, 2);
        Completion r = receive(server);
        assertThat(r.channel()).isSameAs(listening);
        byte[] got = new byte[r.length()];
        target.get(0, got);
        assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo("HELLO " + reply.address());
    }

    @Test
    void aMessageWhoseFragmentsStopIsSupersededByTheNextAndCounted() throws Exception {
        a = open("udp://127.0.0.1:0");
        Endpoint endpoint = a.openEndpoint();
        try (DatagramSocket peer = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Channel channel = endpoint.openChannel().connect(new ChannelAddress("udp://127.0.0.1:" + peer.getLocalPort(), 4));
            ByteBuffer target = ByteBuffer.allocateDirect(4096);
            endpoint.postReceive(target, 1);
            InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), UdpTransport.of(a).boundAddress().port());
            peer.send(fragment(channel.tag(), 0, 0, 2000, 1000, (byte) 1, to)); // the first half of message 0, never finished
            peer.send(fragment(channel.tag(), 1, 0, 300, 300, (byte) 2, to)); // message 1, whole
            Completion r = receive(endpoint);
            assertThat(r.status()).isEqualTo(CompletionStatus.OK);
            assertThat(r.length()).isEqualTo(300);
            assertThat(target.get(0)).isEqualTo((byte) 2);
            assertThat(target.get(299)).isEqualTo((byte) 2);
            assertThat(a.stats().drops().get(DropReason.ORPHAN_FRAGMENT)).as("the abandoned message is counted").isEqualTo(1);
        }
    }

    @Test
    void theNicThreadDrivesTheWireWithoutCallerProgress() {
        a = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0").build());
        b = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0?wait=100").build());
        Endpoint x = a.openEndpoint();
        Endpoint y = b.openEndpoint();
        Channel xy = x.openChannel();
        Channel yx = y.openChannel();
        xy.connect(yx.address());
        yx.connect(xy.address());
        ByteBuffer target = ByteBuffer.allocateDirect(200_000);
        y.postReceive(target, 1);
        ByteBuffer message = ByteBuffer.allocateDirect(200_000);
        EchoExchange.fill(message, 200_000, 3);
        x.send(xy, message, SendPath.PINNED, 2);
        Completion sent = x.await(Duration.ofSeconds(5));
        Completion r = y.await(Duration.ofSeconds(5));
        assertThat(sent).isNotNull();
        assertThat(r).isNotNull();
        assertThat(r.status()).isEqualTo(CompletionStatus.OK);
        assertThat(target).isEqualTo(message);
    }

    private static DatagramPacket fragment(int destination, long messageId, int offset, int messageLength, int length,
                                           byte fill, InetSocketAddress to) {
        FrameHeader h = new FrameHeader();
        h.type = FrameHeader.TYPE_DATA;
        h.sourceTag = 4;
        h.sourceConnection = 0x4444_0000_0000_0004L; // the raw peer's channel: learnt from its first frame
        h.destinationTag = destination;
        h.messageId = messageId;
        h.fragmentOffset = offset;
        h.messageLength = messageLength;
        h.fragmentLength = length;
        byte[] datagram = new byte[WireFrame.HEADER_LENGTH + length];
        WireFrame.encode(h, ByteBuffer.wrap(datagram).order(ByteOrder.LITTLE_ENDIAN), new CRC32C());
        java.util.Arrays.fill(datagram, WireFrame.HEADER_LENGTH, datagram.length, fill);
        return new DatagramPacket(datagram, datagram.length, to);
    }
}
