package org.unetmm.nic.udp;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    private static final Pattern PORT = Pattern.compile("udp://[^/]+:(\\d+)/");
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
            echoAcross(link, faults.wrap("udp://" + link.localAddress + ":0"), (nic, channel, peerAddress, run) -> {
                long start = System.nanoTime();
                run.run();
                report("veth " + link.localAddress + " -> " + link.remoteAddress + " (mtu " + nic.mtu() + ")",
                        messages, start, channel.reliableStats(), nic);
            }, messages, seed);
        }
    }

    /**
     * A reliable channel between two hosts (this namespace and another, joined by a veth pair at
     * MTU 1500) while the kernel itself loses 5 % of the datagrams arriving at each end: an
     * nftables drop rule on both input hooks, not the fault-injecting wire. The loss must really
     * have happened (the rule's own counter, the channel's retransmissions).
     */
    @Test
    void reliableEchoIsByteExactAcrossAVethLosingFivePercentEachWayInTheKernel() throws Exception {
        String unavailable = VethPair.unavailableReason();
        Assumptions.assumeTrue(unavailable == null, () -> "skipped: " + unavailable);
        String noNft = VethPair.nftUnavailableReason();
        Assumptions.assumeTrue(noNft == null, () -> "skipped: " + noNft);
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        int messages = Integer.getInteger("unetmm.test.lossMessages", 4_000);
        long baseline = ProcessStatus.vmLckBytes();
        try (VethPair link = VethPair.create()) {
            echoAcross(link, "udp://" + link.localAddress + ":0", (nic, channel, peerAddress, run) -> {
                try (AutoCloseable loss = link.loseInbound(5, port(channel.address().toString()), port(peerAddress))) {
                    run.run();
                    ReliableStats stats = channel.reliableStats();
                    long droppedThere = link.droppedInNamespace();
                    System.out.printf("%d reliable echoes over veth with 5 %% nftables loss each way: %s; the namespace's"
                            + " rule dropped %d datagrams (seed %d)%n", messages, stats, droppedThere, seed);
                    assertThat(droppedThere).as("the kernel dropped datagrams on their way in").isPositive();
                    assertThat(stats.retransmissions()).as("the channel recovered what the kernel dropped").isPositive();
                }
            }, messages, seed);
        }
        assertThat(ProcessStatus.vmLckBytes()).as("nothing left locked").isEqualTo(baseline);
    }

    /** What a veth test does around the echo exchange, which {@code run} starts (it checks every echo). */
    private interface AroundEcho {
        void around(Nic nic, Channel channel, String peerAddress, Runnable run) throws Exception;
    }

    /** A reliable echo to a peer JVM in the link's namespace, over {@code transport}; {@code around} runs it. */
    private static void echoAcross(VethPair link, String transport, AroundEcho around, int messages, long seed)
            throws Exception {
        Nic nic = Nic.open(NicConfig.builder().transport(transport).progressMode(ProgressMode.CALLER).build());
        try {
            Endpoint endpoint = ReliableEchoDriver.endpoint(nic);
            Channel channel = endpoint.openChannel(ChannelConfig.reliable());
            int maxMessage = 4 * nic.mtu();
            try (PeerProcess peer = PeerProcess.start(link.exec(), ReliableEchoPeer.class,
                    "udp://" + link.remoteAddress + ":0", channel.address().toString(), "150",
                    String.valueOf(maxMessage))) {
                String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                ReliableEchoDriver driver = new ReliableEchoDriver(nic, channel, endpoint, maxMessage);
                around.around(nic, channel, ready[0], () -> {
                    channel.connect(ChannelAddress.parse(ready[0]));
                    driver.run(messages, seed, Duration.ofSeconds(140), nic::progress);
                });
                assertThat(peer.isAlive()).as("peer alive; its stderr: " + peer.stderr()).isTrue();
            }
        } finally {
            nic.close();
        }
    }

    private static int port(String address) {
        Matcher m = PORT.matcher(address);
        assertThat(m.find()).as("a udp address with a port: " + address).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static void report(String where, int messages, long start, ReliableStats stats, Nic nic) {
        System.out.printf("%d reliable echoes over %s in %d ms%n  wire: %s%n  channel: %s%n  drops: %s%n", messages,
                where, (System.nanoTime() - start) / 1_000_000, FaultInjectingTransport.of(nic).stats(), stats,
                nic.stats().drops());
    }
}
