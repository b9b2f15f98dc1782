package org.unetmm.nic.reliable;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ChannelConfig;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.ReliableStats;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.nic.fault.FaultConfig;
import org.unetmm.nic.fault.FaultInjectingTransport;

/**
 * A reliable channel's peer falls silent — a GC pause, a SIGSTOP, a link down — while sends are
 * pending: the peer's NIC sits behind a fault-injecting wire whose {@link FaultInjectingTransport#blackout}
 * loses everything it transmits. Holds: at the default liveness a silence of seconds costs only
 * time (the channel used to give up after ~1.5 s, inside the 3.75 s its
 * {@code worstCaseDeathDetection()} claimed); the peer is declared unreachable after the configured
 * {@code peerTimeout} and not before, as {@code worstCaseDeathDetection()} says; and a 3 s
 * blackout in the middle of a stream on a wire losing 10 % both ways loses nothing.
 */
@Timeout(120)
class ReliablePeerSilenceTest {
    private static final int MTU = 4096;

    private final CallerNics nics = new CallerNics();

    @AfterEach
    void closeAll() {
        nics.closeAllAndCheckVmLck();
    }

    private static ByteBuffer pattern(int size, int seed) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i++) {
            buffer.put(i, (byte) (seed * 7 + i * 13));
        }
        return buffer;
    }

    /** A client NIC and a server NIC whose wire can black out; the channel pair; the server's receive buffers posted. */
    private Channel[] pair(ChannelConfig options, FaultConfig serverFaults, FaultConfig clientFaults) {
        Nic client = nics.open(clientFaults.wrap("loopback:"), MTU);
        Nic server = nics.open(serverFaults.wrap("loopback:"), MTU);
        Endpoint a = client.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
        Endpoint b = server.openEndpoint(EndpointConfig.builder().segmentBytes(0).freeQueue(64).build());
        Channel ab = a.openChannel(options);
        Channel ba = b.openChannel(options);
        ab.connect(ba.address());
        ba.connect(ab.address());
        return new Channel[] {ab, ba};
    }

    /** Sends one message and waits for it to be acknowledged: the peer is established. */
    private void establish(Channel ab, Channel ba) {
        ba.endpoint().postReceive(ByteBuffer.allocateDirect(MTU), 0);
        assertThat(ab.endpoint().send(ab, pattern(100, 0), 0, 100, SendPath.PINNED, 0)).isEqualTo(SendStatus.ACCEPTED);
        Completion sent = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (sent == null && System.nanoTime() - deadline < 0) {
            nics.progress();
            sent = ab.endpoint().poll();
        }
        assertThat(sent).as("first send acknowledged").isNotNull();
        assertThat(sent.status()).isEqualTo(CompletionStatus.OK);
        assertThat(ba.endpoint().poll().status()).isEqualTo(CompletionStatus.OK);
    }

    @Test
    void defaultLivenessRidesOutSecondsOfSilenceAndWaitsAtLeastTenSeconds() {
        ChannelConfig options = ChannelConfig.reliable();
        assertThat(options.worstCaseDeathDetection()).as("what the default promises").isEqualTo(options.peerTimeout())
                .isGreaterThanOrEqualTo(Duration.ofSeconds(10));
        FaultConfig none = FaultConfig.none();
        Channel[] p = pair(options, none, none);
        Channel ab = p[0];
        Endpoint a = ab.endpoint();
        Endpoint b = p[1].endpoint();
        establish(ab, p[1]);
        FaultInjectingTransport serverWire = FaultInjectingTransport.of(b.nic());
        for (int i = 0; i < 8; i++) {
            b.postReceive(ByteBuffer.allocateDirect(3 * MTU), 100 + i);
        }
        serverWire.blackout(Duration.ofMillis(2500)); // the server stops answering: a long GC pause
        for (int i = 1; i <= 8; i++) {
            assertThat(a.send(ab, pattern(2 * MTU + 100, i), 0, 2 * MTU + 100, SendPath.PINNED, i))
                    .isEqualTo(SendStatus.ACCEPTED);
        }
        while (serverWire.inBlackout()) {
            nics.progress();
            assertThat(a.poll()).as("nothing completes while the peer is silent, least of all PEER_UNREACHABLE").isNull();
        }
        assertThat(ab.isClosed()).as("2.5 s of silence at the default liveness").isFalse();
        assertThat(serverWire.stats().blackedOut()).as("the server's acknowledgements were lost").isPositive();
        int ok = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (ok < 8 && System.nanoTime() - deadline < 0) {
            nics.progress();
            Completion c;
            while ((c = a.poll()) != null) {
                assertThat(c.status()).as("send %d after the silence", c.cookie()).isEqualTo(CompletionStatus.OK);
                ok++;
            }
        }
        assertThat(ok).as("every pending send completed once the peer spoke again").isEqualTo(8);
        ReliableStats stats = ab.reliableStats();
        assertThat(stats.timeouts()).as("the silence was retransmitted through").isPositive();
    }

    @Test
    void silentPeerIsDeclaredUnreachableAfterTheConfiguredPeerTimeoutAndNotBefore() {
        Duration peerTimeout = Duration.ofMillis(700);
        ChannelConfig options = ChannelConfig.builder().reliable(true).maxRto(Duration.ofMillis(50))
                .keepAlive(Duration.ofMillis(100)).peerTimeout(peerTimeout).build();
        assertThat(options.worstCaseDeathDetection()).isEqualTo(peerTimeout);
        FaultConfig none = FaultConfig.none();
        Channel[] p = pair(options, none, none);
        Channel ab = p[0];
        Endpoint a = ab.endpoint();
        establish(ab, p[1]);
        FaultInjectingTransport serverWire = FaultInjectingTransport.of(p[1].endpoint().nic());
        serverWire.blackout(Duration.ofSeconds(30)); // for good, as far as this test goes
        long start = System.nanoTime();
        for (int i = 1; i <= 4; i++) {
            assertThat(a.send(ab, pattern(MTU + 1, i), 0, MTU + 1, SendPath.PINNED, i)).isEqualTo(SendStatus.ACCEPTED);
        }
        Completion first = null;
        long deadline = start + peerTimeout.multipliedBy(5).toNanos();
        while (first == null && System.nanoTime() - deadline < 0) {
            nics.progress();
            first = a.poll();
        }
        Duration after = Duration.ofNanos(System.nanoTime() - start);
        assertThat(first).as("declared unreachable at all").isNotNull();
        assertThat(first.status()).isEqualTo(CompletionStatus.PEER_UNREACHABLE);
        assertThat(after).as("not before peerTimeout").isGreaterThanOrEqualTo(peerTimeout);
        assertThat(after).as("and by worstCaseDeathDetection (plus one progress round's slack)")
                .isLessThan(options.worstCaseDeathDetection().plusMillis(250));
        int failed = 1;
        Completion c;
        while ((c = a.poll()) != null) {
            assertThat(c.status()).isEqualTo(CompletionStatus.PEER_UNREACHABLE);
            failed++;
        }
        assertThat(failed).as("every pending send failed").isEqualTo(4);
        assertThat(ab.closeStatus()).isEqualTo(CompletionStatus.PEER_UNREACHABLE);
    }

    @Test
    void threeSecondBlackoutUnderTenPercentLossCostsOnlyTime() {
        long seed = Long.getLong("unetmm.test.seed", System.nanoTime());
        String why = "seed " + seed + " (rerun with -Dunetmm.test.seed=" + seed + ")";
        FaultConfig serverFaults = new FaultConfig(0.10, 0, 0, 0, Duration.ZERO, seed);
        FaultConfig clientFaults = new FaultConfig(0.10, 0, 0, 0, Duration.ZERO, seed + 1);
        Channel[] p = pair(ChannelConfig.reliable(), serverFaults, clientFaults);
        Channel ab = p[0];
        Endpoint a = ab.endpoint();
        Endpoint b = p[1].endpoint();
        FaultInjectingTransport serverWire = FaultInjectingTransport.of(b.nic());
        FaultInjectingTransport clientWire = FaultInjectingTransport.of(a.nic());
        int messages = 400;
        int size = 3 * MTU - 7;
        List<ByteBuffer> free = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            free.add(ByteBuffer.allocateDirect(size));
        }
        long sent = 0;
        long acknowledged = 0;
        long received = 0;
        long posted = 0;
        boolean blackedOut = false;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while ((received < messages || acknowledged < messages) && System.nanoTime() - deadline < 0) {
            while (posted - received < 32 && b.postReceive(ByteBuffer.allocateDirect(size), posted).isPosted()) {
                posted++;
            }
            if (!blackedOut && received >= messages / 3) {
                serverWire.blackout(Duration.ofSeconds(3)); // the link goes down both ways
                clientWire.blackout(Duration.ofSeconds(3));
                blackedOut = true;
            }
            while (sent < messages && !free.isEmpty()) {
                ByteBuffer buffer = free.remove(free.size() - 1);
                for (int i = 0; i < size; i++) {
                    buffer.put(i, (byte) (sent * 17 + i));
                }
                assertThat(a.send(ab, buffer, 0, size, SendPath.PINNED, sent)).isEqualTo(SendStatus.ACCEPTED);
                sent++;
            }
            nics.progress();
            Completion c;
            while ((c = a.poll()) != null) {
                assertThat(c.status()).as("send %d, %s", c.cookie(), why).isEqualTo(CompletionStatus.OK);
                assertThat(c.cookie()).isEqualTo(acknowledged);
                acknowledged++;
                free.add(c.buffer());
            }
            while ((c = b.poll()) != null) {
                assertThat(c.status()).as("receive %d, %s", received, why).isEqualTo(CompletionStatus.OK);
                assertThat(c.length()).isEqualTo(size);
                for (int i = 0; i < size; i++) {
                    if (c.buffer().get(c.offset() + i) != (byte) (received * 17 + i)) {
                        throw new AssertionError("message " + received + " differs at byte " + i + ", " + why);
                    }
                }
                received++;
            }
        }
        assertThat(blackedOut).isTrue();
        assertThat(serverWire.stats().blackedOut() + clientWire.stats().blackedOut()).as("frames lost to the blackout")
                .isPositive();
        assertThat(received).as("delivered, %s", why).isEqualTo(messages);
        assertThat(acknowledged).as("acknowledged, %s", why).isEqualTo(messages);
        assertThat(ab.isClosed()).isFalse();
    }
}
