package org.unetmm.nic.shm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.ChannelConfig;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.nic.udp.EchoExchange;
import org.unetmm.nic.udp.PeerProcess;
import org.unetmm.nic.udp.UdpEchoPeer;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.ProcessStatus;

/**
 * The shm wire between two JVMs: the test's NIC listens on {@code shm:<name>}, a second JVM
 * ({@link UdpEchoPeer}, any wire's echo) opens {@code shm:} and echoes. Large fragments cross by
 * process_vm_readv from the other process, in both directions.
 */
@Timeout(120)
class ShmTwoProcessTest {
    static final int MAX_MESSAGE = 4 << 20;

    static Nic open(String uri) {
        return Nic.open(NicConfig.builder().transport(uri).progressMode(ProgressMode.CALLER).build());
    }

    @Test
    void messagesOfEverySizeEchoByteExactOnBothPathsBetweenTwoJvms() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        String name = ShmPairInOneJvmTest.fresh("echo");
        Nic nic = open("shm:" + name);
        EchoExchange exchange = null;
        try {
            Endpoint endpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(MAX_MESSAGE + 4096).build());
            Channel pinned = endpoint.openChannel();
            Channel fixed = endpoint.openChannel();
            exchange = new EchoExchange(endpoint, MAX_MESSAGE);
            try (PeerProcess peer = PeerProcess.start(List.of(), UdpEchoPeer.class, "shm:", pinned.address().toString(),
                    fixed.address().toString(), "90", String.valueOf(MAX_MESSAGE))) {
                String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                pinned.connect(ChannelAddress.parse(ready[0]));
                fixed.connect(ChannelAddress.parse(ready[1]));
                int mtu = nic.mtu();
                for (int size : new int[] {0, 1, 71, 72, 4096, 16383, 16384, 16385, 65_536, 100_000, mtu - 1, mtu, mtu + 1,
                        1 << 20, 3 * mtu + 17, MAX_MESSAGE}) {
                    for (SendPath path : SendPath.values()) {
                        exchange.roundTrip(path == SendPath.PINNED ? pinned : fixed, path, size, seed + size,
                                Duration.ofSeconds(5), 1);
                    }
                }
                assertThat(peer.isAlive()).as("peer alive after the exchange; its stderr: " + peer.stderr()).isTrue();
                ShmStats wire = ShmTransport.of(nic).stats();
                assertThat(wire.dropped()).as("wire drops " + wire.drops()).isZero();
                assertThat(wire.rendezvousSent()).as("large fragments left by rendezvous: " + wire).isPositive();
                assertThat(wire.rendezvousCompleted()).as("each completed once by the peer").isEqualTo(wire.rendezvousSent());
                assertThat(wire.rendezvousRead()).as("the peer's echoes were read from its memory").isPositive();
                assertThat(exchange.retries).as("nothing is lost on shm (seed " + seed + ")").isZero();
            }
        } finally {
            nic.close();
            if (exchange != null) {
                exchange.close();
            }
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
        assertThat(ShmDirectory.peersOf(name)).as("regions removed").isEmpty();
        assertThat(Files.exists(ShmDirectory.home(name))).isFalse();
    }

    @Test
    void aKilledPeerFailsHeldSendsAsUnreachableRemovesItsRegionAndTheNameWorksAgain() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        String name = ShmPairInOneJvmTest.fresh("kill");
        int size = 1 << 20;
        java.nio.file.Path killedHome = null;
        try (NativeBuffer message = NativeMemory.allocate(size)) {
            Nic nic = open("shm:" + name + "?timeout=300");
            try {
                Endpoint endpoint = nic.openEndpoint();
                Channel channel = endpoint.openChannel();
                Channel spare = endpoint.openChannel();
                try (PeerProcess peer = PeerProcess.start(List.of(), UdpEchoPeer.class, "shm:", channel.address().toString(),
                        spare.address().toString(), "90", String.valueOf(size))) {
                    String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                    channel.connect(ChannelAddress.parse(ready[0]));
                    killedHome = ShmDirectory.home(ChannelAddress.parse(ready[0]).transportAddress().substring("shm:".length()));
                    long deadline = System.nanoTime() + 5_000_000_000L;
                    while (ShmTransport.of(nic).stats().peers() == 0 && System.nanoTime() - deadline < 0) {
                        nic.progress(); // the peer's region is picked up
                    }
                    peer.kill();
                    assertThat(endpoint.send(channel, message.buffer(), 0, size, SendPath.PINNED, 7)).isEqualTo(SendStatus.ACCEPTED);
                    long sentAt = System.nanoTime();
                    Completion c = null;
                    while (c == null && System.nanoTime() - sentAt < 5_000_000_000L) {
                        nic.progress();
                        c = endpoint.poll();
                    }
                    assertThat(c).as("the held send completes once the peer is taken for dead").isNotNull();
                    assertThat(c.status()).as(c.detail()).isEqualTo(CompletionStatus.PEER_UNREACHABLE);
                    assertThat(c.detail()).as("says what to do").contains("was silent for more than", "raise timeout=");
                    assertThat(endpoint.poll()).as("exactly one completion").isNull();
                    ShmStats wire = ShmTransport.of(nic).stats();
                    assertThat(wire.rendezvousSent()).as("the send's fragments were held by rendezvous: " + wire)
                            .isEqualTo(size / nic.mtu());
                    assertThat(wire.rendezvousFailed()).as("every held fragment released failed").isEqualTo(wire.rendezvousSent());
                    assertThat(wire.peersLost()).isEqualTo(1);
                    assertThat(ShmDirectory.peersOf(name)).as("the dead peer's region is removed").isEmpty();
                }
                channel.close();
                // a new peer on the same listener works
                Channel again = endpoint.openChannel();
                Channel again2 = endpoint.openChannel();
                try (EchoExchange exchange = new EchoExchange(endpoint, size);
                     PeerProcess peer = PeerProcess.start(List.of(), UdpEchoPeer.class, "shm:", again.address().toString(),
                             again2.address().toString(), "90", String.valueOf(size))) {
                    String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                    again.connect(ChannelAddress.parse(ready[0]));
                    assertThat(killedHome).as("the killed peer's stale home, removed when the new peer opened").doesNotExist();
                    exchange.roundTrip(again, SendPath.PINNED, size, 11, Duration.ofSeconds(5), 1);
                    endpoint.close();
                }
            } finally {
                nic.close();
            }
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close: the dead peer's pins were released").isEqualTo(baseline);
    }

    @Test
    void aReliableChannelToAKilledPeerFailsWhenTheWireLosesThePeerNotAtItsOwnPeerTimeout() throws Exception {
        long baseline = ProcessStatus.vmLckBytes();
        String name = ShmPairInOneJvmTest.fresh("rkill");
        try (NativeBuffer message = NativeMemory.allocate(64)) {
            Nic nic = open("shm:" + name + "?timeout=300");
            try {
                Endpoint endpoint = nic.openEndpoint();
                // the channel alone would wait a minute for the silent peer; the wire knows within 300 ms
                Channel channel = endpoint.openChannel(ChannelConfig.builder().reliable(true)
                        .peerTimeout(Duration.ofSeconds(60)).build());
                Channel spare = endpoint.openChannel();
                Channel spare2 = endpoint.openChannel();
                try (PeerProcess peer = PeerProcess.start(List.of(), UdpEchoPeer.class, "shm:", spare.address().toString(),
                        spare2.address().toString(), "90", "64")) {
                    String[] ready = peer.awaitReady(Duration.ofSeconds(30));
                    channel.connect(ChannelAddress.parse(ready[0])); // an unreliable channel there: nothing is acknowledged
                    long deadline = System.nanoTime() + 5_000_000_000L;
                    while (ShmTransport.of(nic).stats().peers() == 0 && System.nanoTime() - deadline < 0) {
                        nic.progress();
                    }
                    assertThat(endpoint.send(channel, message.buffer(), 0, 64, SendPath.PINNED, 5)).isEqualTo(SendStatus.ACCEPTED);
                    for (int i = 0; i < 100; i++) {
                        nic.progress(); // transmitted, and waiting for an acknowledgement that cannot come
                    }
                    assertThat(endpoint.poll()).as("unacknowledged: still the NIC's").isNull();
                    peer.kill();
                    Completion c = null;
                    long killedAt = System.nanoTime();
                    while (c == null && System.nanoTime() - killedAt < 30_000_000_000L) {
                        nic.progress();
                        c = endpoint.poll();
                    }
                    assertThat(c).as("the reliable send completes once the wire has lost the peer").isNotNull();
                    assertThat(c.status()).as(c.detail()).isEqualTo(CompletionStatus.PEER_UNREACHABLE);
                    assertThat(c.detail()).contains("the wire lost the peer", "was silent for more than 300 ms");
                    assertThat(endpoint.poll()).as("exactly one completion").isNull();
                    assertThat(channel.isClosed()).as("the channel is closed").isTrue();
                }
            } finally {
                nic.close();
            }
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck after close").isEqualTo(baseline);
    }
}
