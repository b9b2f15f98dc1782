package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.pinning.ProcessStatus;

/**
 * Two JVMs on one host over UDP loopback: every size from 0 B to 4 MiB, on both send paths, goes
 * to a peer JVM and comes back byte-exact, so each size crosses the wire in both directions and
 * both processes fragment and reassemble it.
 */
@Timeout(120)
class TwoProcessEchoTest {
    static final int MAX_MESSAGE = 4 << 20;

    /** Sizes around every boundary the wire has: the header, a page, the loopback MTU, many fragments. */
    static int[] sizes(int mtu) {
        return new int[] {0, 1, 39, 40, 41, 1000, 4095, 4096, 4097, mtu - 1, mtu, mtu + 1, 65_536, 100_000,
                1 << 20, 3 * mtu + 17, MAX_MESSAGE};
    }

    @Test
    void messagesOfEverySizeEchoByteExactOnBothPathsBetweenTwoJvms() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        Nic nic = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0").progressMode(ProgressMode.CALLER).build());
        EchoExchange exchange = null;
        try {
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(MAX_MESSAGE + 4096).build());
            Channel pinned = endpoint.openChannel();
            Channel fixed = endpoint.openChannel();
            exchange = new EchoExchange(endpoint, MAX_MESSAGE);
            try (PeerProcess peer = PeerProcess.start(List.of(), "udp://127.0.0.1:0", pinned.address().toString(),
                    fixed.address().toString(), "90", String.valueOf(MAX_MESSAGE))) {
                String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                pinned.connect(ChannelAddress.parse(ready[0]));
                fixed.connect(ChannelAddress.parse(ready[1]));
                assertThat(nic.mtu()).as("loopback MTU: the largest datagram less the header").isEqualTo(WireFrame.MAX_FRAGMENT);
                for (int size : sizes(nic.mtu())) {
                    for (SendPath path : SendPath.values()) {
                        exchange.roundTrip(path == SendPath.PINNED ? pinned : fixed, path, size, seed + size,
                                Duration.ofSeconds(3), 4);
                    }
                }
                assertThat(peer.isAlive()).as("peer alive after the exchange; its stderr: " + peer.stderr()).isTrue();
            }
            UdpStats wire = UdpTransport.of(nic).stats();
            assertThat(wire.dropped()).as("wire drops " + wire.drops()).isZero();
            assertThat(exchange.retries).as("messages sent again after a loss (seed " + seed + ")").isLessThanOrEqualTo(4);
            assertThat(nic.stats().fragmentsSent()).as("4 MiB messages were cut into MTU fragments")
                    .isGreaterThan(2L * sizes(nic.mtu()).length);
        } finally {
            nic.close();
            if (exchange != null) {
                exchange.close();
            }
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
    }
}
