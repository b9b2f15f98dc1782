package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;

/**
 * Two hosts: the peer JVM runs in its own network namespace, reached over a veth pair with an MTU
 * of 1500, so the NIC's fragments are cut to the link (1500 - 28 - 56 = 1416 payload bytes) and a
 * message of a megabyte crosses as hundreds of datagrams each way. Both ends run with UDP GSO and
 * GRO each on and off (both ends alike, so each direction is one combination, a GSO sender toward a
 * receiver without GRO included): the same bytes every time, and the super-datagram and GRO-run
 * counters show the offloads taken exactly when on. Skipped, with the reason, where the machine
 * cannot make namespaces.
 */
@Timeout(240)
class TwoHostEchoTest {
    private static final int MAX_MESSAGE = 1 << 20;

    @ParameterizedTest(name = "gso={0} gro={1}")
    @CsvSource({"true,true", "true,false", "false,true", "false,false"})
    void messagesEchoByteExactAcrossAVethPairAtMtu1500(boolean gso, boolean gro) throws Exception {
        String unavailable = VethPair.unavailableReason();
        Assumptions.assumeTrue(unavailable == null, () -> "skipped: " + unavailable);
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        String offloads = "?gso=" + gso + "&gro=" + gro;
        try (VethPair link = VethPair.create()) {
            Nic nic = Nic.open(NicConfig.builder().transport("udp://" + link.localAddress + ":0" + offloads)
                    .progressMode(ProgressMode.CALLER).build());
            EchoExchange exchange = null;
            try {
                assertThat(nic.mtu()).as("fragment payload on a 1500-byte link").isEqualTo(1500 - 28 - WireFrame.HEADER_LENGTH);
                Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(MAX_MESSAGE + 4096).build());
                Channel pinned = endpoint.openChannel();
                Channel fixed = endpoint.openChannel();
                exchange = new EchoExchange(endpoint, MAX_MESSAGE);
                try (PeerProcess peer = PeerProcess.start(link.exec(), "udp://" + link.remoteAddress + ":0" + offloads,
                        pinned.address().toString(), fixed.address().toString(), "90", String.valueOf(MAX_MESSAGE))) {
                    String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                    assertThat(ready[0]).as("the peer is bound in its namespace").startsWith("udp://" + link.remoteAddress + ":");
                    pinned.connect(ChannelAddress.parse(ready[0]));
                    fixed.connect(ChannelAddress.parse(ready[1]));
                    int mtu = nic.mtu();
                    int[] sizes = {0, 1, mtu - 1, mtu, mtu + 1, 10 * mtu + 7, 65_536, 300_000, MAX_MESSAGE};
                    for (int size : sizes) {
                        for (SendPath path : SendPath.values()) {
                            exchange.roundTrip(path == SendPath.PINNED ? pinned : fixed, path, size, seed + size,
                                    Duration.ofSeconds(3), 4);
                        }
                    }
                    assertThat(peer.isAlive()).as("peer alive; its stderr: " + peer.stderr()).isTrue();
                }
                UdpStats wire = UdpTransport.of(nic).stats();
                assertThat(wire.dropped()).as("wire drops " + wire.drops()).isZero();
                assertThat(wire.datagramsReceived()).as("a megabyte arrives as hundreds of datagrams").isGreaterThan(2L * (MAX_MESSAGE / nic.mtu()));
                assertThat(wire.gsoSends() > 0).as("super-datagrams sent exactly when gso is on: " + wire).isEqualTo(gso);
                assertThat(wire.groRuns() > 0).as("GRO runs received exactly when both are on: " + wire).isEqualTo(gso && gro);
                assertThat(exchange.retries).as("messages sent again after a loss (seed " + seed + ")").isLessThanOrEqualTo(4);
            } finally {
                nic.close();
                if (exchange != null) {
                    exchange.close();
                }
            }
        }
    }
}
