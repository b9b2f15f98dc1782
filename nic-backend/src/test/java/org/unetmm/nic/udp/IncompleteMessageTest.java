package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.zip.CRC32C;
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
import org.unetmm.spi.FrameHeader;

/**
 * An unreliable message whose later fragments never come: after the reassembly timeout it is
 * dropped and counted INCOMPLETE, and its posted buffer comes back with an INCOMPLETE completion
 * (exactly one), so the next message finds a buffer again.
 */
@Timeout(30)
class IncompleteMessageTest {
    private static final int PEER_TAG = 7;

    @Test
    void messageMissingFragmentsTimesOutAndItsBufferComesBack() throws Exception {
        try (DatagramSocket peer = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             Nic nic = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0").progressMode(ProgressMode.CALLER)
                     .reassemblyTimeout(Duration.ofMillis(20)).build())) {
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Channel channel = endpoint.openChannel()
                    .connect(new ChannelAddress("udp://127.0.0.1:" + peer.getLocalPort(), PEER_TAG));
            InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    UdpTransport.of(nic).boundAddress().port());
            ByteBuffer posted = ByteBuffer.allocateDirect(8192);
            endpoint.postReceive(posted, 41);

            peer.send(frame(channel.tag(), 1, 0, 4000, 1000, target)); // the first of four fragments, and no more
            Completion first = awaitCompletion(nic, endpoint);
            assertThat(first.status()).isEqualTo(CompletionStatus.INCOMPLETE);
            assertThat(first.cookie()).isEqualTo(41);
            assertThat(first.length()).as("the bytes that did arrive").isEqualTo(1000);
            assertThat(first.detail()).contains("timed out", "1000 of 4000");
            assertThat(nic.stats().drops().get(DropReason.INCOMPLETE)).isEqualTo(1);

            endpoint.postReceive(posted, 42);
            peer.send(frame(channel.tag(), 2, 0, 500, 500, target)); // a whole message afterwards is delivered
            Completion second = awaitCompletion(nic, endpoint);
            assertThat(second.status()).isEqualTo(CompletionStatus.OK);
            assertThat(second.cookie()).isEqualTo(42);
            assertThat(second.length()).isEqualTo(500);
            assertThat(endpoint.poll()).as("exactly one completion per posted receive").isNull();
        }
    }

    private static Completion awaitCompletion(Nic nic, Endpoint endpoint) {
        Completion c = endpoint.await(Duration.ofSeconds(5));
        assertThat(c).as("a completion within 5 s").isNotNull();
        return c;
    }

    private static DatagramPacket frame(int destinationTag, long messageId, int offset, int messageLength,
                                        int fragmentLength, InetSocketAddress target) {
        FrameHeader h = new FrameHeader();
        h.type = FrameHeader.TYPE_DATA;
        h.sourceTag = PEER_TAG;
        h.sourceConnection = 0x1D1E_5EED_0000_0007L; // the raw peer's channel: learnt from its first frame
        h.destinationTag = destinationTag;
        h.messageId = messageId;
        h.fragmentOffset = offset;
        h.messageLength = messageLength;
        h.fragmentLength = fragmentLength;
        byte[] datagram = new byte[WireFrame.HEADER_LENGTH + fragmentLength];
        WireFrame.encode(h, ByteBuffer.wrap(datagram).order(ByteOrder.LITTLE_ENDIAN), new CRC32C());
        return new DatagramPacket(datagram, datagram.length, target);
    }
}
