package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.ChannelConfig;
import org.unetmm.DropReason;
import org.unetmm.Endpoint;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.ReliableStats;
import org.unetmm.nic.fault.FaultConfig;
import org.unetmm.nic.fault.FaultInjectingTransport;
import org.unetmm.pinning.ProcessStatus;

/**
 * Reliable channels on the real UDP wire, with the fault injector on this side (so data one way
 * and acknowledgements the other cross it): in one JVM over 127.0.0.1, and to a peer JVM in
 * another network namespace over a veth pair at MTU 1500. Every message is
 * echoed; the echoes are checked for loss, duplication, order and every byte.
 */
@Timeout(180)
class ReliableUdpTest {
    private static final FaultConfig FAULTS = new FaultConfig(0.05, 0.05, 0.05, 0.01, Duration.ZERO, 1);

    @Test
    void reliableEchoCrossesAFaultyUdpWireInOneJvm() {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        // the namespace test below runs the full 10^5; this one is the quick, always-available check
        int messages = Integer.getInteger("unetmm.test.reliableUdpLocalMessages", 20_000);
        long baseline = ProcessStatus.vmLckBytes();
        FaultConfig faults = new FaultConfig(0.05, 0.05, 0.05, 0.01, Duration.ZERO, seed);
        try (Nic local = Nic.open(NicConfig.builder().transport(faults.wrap("udp://127.0.0.1:0")).mtu(1416)
                .progressMode(ProgressMode.CALLER).build());
             Nic remote = Nic.open(NicConfig.builder().transport("udp://127.0.0.1:0").mtu(1416)
                     .progressMode(ProgressMode.CALLER).build())) {
            ReliableEchoPeer echo = new ReliableEchoPeer(remote, ChannelConfig.reliable(), 8192);
            Endpoint endpoint = ReliableEchoDriver.endpoint(local);
            Channel channel = endpoint.openChannel(ChannelConfig.reliable());
            channel.connect(echo.channel().address());
            echo.channel().connect(channel.address());
            ReliableEchoDriver driver = new ReliableEchoDriver(local, channel, endpoint, 8192);
            long start = System.nanoTime();
            driver.run(messages, seed, Duration.ofSeconds(120), () -> {
                local.progress();
                remote.progress();
                echo.step();
            });
            report("127.0.0.1", messages, start, channel.reliableStats(), local);
            assertThat(local.stats().drops().get(DropReason.CORRUPT) + remote.stats().drops().get(DropReason.CORRUPT))
                    .as("corrupted frames caught").isPositive();
        }
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }

    @Test
    void reliableEchoCrossesAFaultyVethLinkToAPeerJvmInAnotherNamespace() throws Exception {
        String unavailable = VethPair.unavailableReason();
        Assumptions.assumeTrue(unavailable == null, () -> "skipped: " + unavailable);
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        int messages = Integer.getInteger("unetmm.test.reliableMessages", 100_000);
        FaultConfig faults = new FaultConfig(FAULTS.drop(), FAULTS.duplicate(), FAULTS.reorder(), FAULTS.corrupt(),
                Duration.ZERO, seed);
        try (VethPair link = VethPair.create()) {
            Nic nic = Nic.open(NicConfig.builder().transport(faults.wrap("udp://" + link.localAddress + ":0"))
                    .progressMode(ProgressMode.CALLER).build());
            try {
                Endpoint endpoint = ReliableEchoDriver.endpoint(nic);
                Channel channel = endpoint.openChannel(ChannelConfig.reliable());
                int maxMessage = 4 * nic.mtu();
                try (PeerProcess peer = PeerProcess.start(link.exec(), ReliableEchoPeer.class,
                        "udp://" + link.remoteAddress + ":0", channel.address().toString(), "150",
                        String.valueOf(maxMessage))) {
                    String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                    channel.connect(ChannelAddress.parse(ready[0]));
                    ReliableEchoDriver driver = new ReliableEchoDriver(nic, channel, endpoint, maxMessage);
                    long start = System.nanoTime();
                    driver.run(messages, seed, Duration.ofSeconds(140), nic::progress);
                    report("veth " + link.localAddress + " -> " + link.remoteAddress + " (mtu " + nic.mtu() + ")",
                            messages, start, channel.reliableStats(), nic);
                    assertThat(peer.isAlive()).as("peer alive; its stderr: " + peer.stderr()).isTrue();
                }
            } finally {
                nic.close();
            }
        }
    }

    private static void report(String where, int messages, long start, ReliableStats stats, Nic nic) {
        System.out.printf("%d reliable echoes over %s in %d ms%n  wire: %s%n  channel: %s%n  drops: %s%n", messages,
                where, (System.nanoTime() - start) / 1_000_000, FaultInjectingTransport.of(nic).stats(), stats,
                nic.stats().drops());
    }
}
