package org.unetmm.nic.reliable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.ChannelConfig;
import org.unetmm.ClosedException;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.DropReason;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.ReliableStats;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.nic.fault.FaultConfig;

/** Reliable channels on the loopback wire, driven by the caller's progress. */
@Timeout(60)
class ReliableChannelTest {
    private static final ChannelConfig FAST = ChannelConfig.builder().reliable(true)
            .initialRto(Duration.ofMillis(2)).minRto(Duration.ofNanos(300_000)).maxRto(Duration.ofMillis(20))
            .maxRetransmits(8).keepAlive(Duration.ofMillis(30)).ackDelay(Duration.ofNanos(20_000))
            .peerTimeout(Duration.ofMillis(300)).build();

    private final CallerNics nics = new CallerNics();

    @AfterEach
    void closeAll() {
        nics.closeAllAndCheckVmLck();
    }

    private Nic nic(String transport, int mtu) {
        return nics.open(transport, mtu);
    }

    private static Channel[] connect(Endpoint a, Endpoint b, ChannelConfig options) {
        Channel ab = a.openChannel(options);
        Channel ba = b.openChannel(options);
        ab.connect(ba.address());
        ba.connect(ab.address());
        return new Channel[] {ab, ba};
    }

    private static ByteBuffer pattern(int size, int seed) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(Math.max(size, 1));
        for (int i = 0; i < size; i++) {
            buffer.put(i, (byte) (seed * 7 + i * 13));
        }
        return buffer;
    }

    /** Drives progress of every NIC until a completion arrives on {@code endpoint}, or fails after the bound. */
    private Completion next(Endpoint endpoint, Duration bound) {
        long deadline = System.nanoTime() + bound.toNanos();
        while (System.nanoTime() - deadline < 0) {
            Completion c = endpoint.poll();
            if (c != null) {
                return c;
            }
            nics.progress();
        }
        throw new AssertionError("no completion on " + endpoint + " within " + bound);
    }

    private void spin(Duration duration) {
        long deadline = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() - deadline < 0) {
            nics.progress();
        }
    }

    @Test
    void sendCompletesOnAcknowledgementAndNotBeforeTheReceiverPostsABuffer() {
        Nic nic = nic("loopback:", 4096);
        Endpoint a = nic.openEndpoint();
        Endpoint b = nic.openEndpoint();
        Channel[] pair = connect(a, b, FAST);
        ByteBuffer source = pattern(10_000, 1);
        assertThat(a.send(pair[0], source, 0, 10_000, SendPath.PINNED, 7)).isEqualTo(SendStatus.ACCEPTED);
        spin(Duration.ofMillis(30));
        assertThat(a.poll()).as("no completion while the receiver has no buffer").isNull();
        assertThat(nic.stats().drops().get(DropReason.NO_BUFFER)).isPositive();
        assertThat(pair[0].reliableStats().notReadyReceived()).as("receiver-not-ready NACKs heard").isPositive();
        assertThat(pair[0].isClosed()).as("a receiver that answers is alive, however long it waits").isFalse();

        ByteBuffer target = ByteBuffer.allocateDirect(16_384);
        b.postReceive(target, 70);
        Completion received = next(b, Duration.ofSeconds(5));
        Completion sent = next(a, Duration.ofSeconds(5));
        assertThat(received.status()).isEqualTo(CompletionStatus.OK);
        assertThat(received.length()).isEqualTo(10_000);
        assertThat(target.slice(0, 10_000)).isEqualTo(source.slice(0, 10_000));
        assertThat(sent.status()).isEqualTo(CompletionStatus.OK);
        assertThat(sent.cookie()).isEqualTo(7);
        ReliableStats stats = pair[0].reliableStats();
        assertThat(stats.messagesAcknowledged()).isEqualTo(1);
        assertThat(stats.inFlight()).isZero();
    }

    @Test
    void messagesArriveInOrderExactlyOnceThroughLossDuplicationReorderingAndCorruption() {
        FaultConfig faults = new FaultConfig(0.1, 0.1, 0.1, 0.05, Duration.ZERO, 11);
        Nic nic = nic(faults.wrap("loopback:"), 1024);
        Endpoint a = nic.openEndpoint();
        Endpoint b = nic.openEndpoint(EndpointConfig.builder().freeQueue(64).build());
        Channel[] pair = connect(a, b, FAST);
        int messages = 400;
        List<ByteBuffer> sources = new ArrayList<>();
        int sent = 0;
        int received = 0;
        int acknowledged = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while ((received < messages || acknowledged < messages) && System.nanoTime() < deadline) {
            if (sent < messages) {
                int size = (sent * 977) % 5000;
                ByteBuffer source = pattern(size, sent);
                if (a.send(pair[0], source, 0, size, SendPath.PINNED, sent) == SendStatus.ACCEPTED) {
                    sources.add(source);
                    sent++;
                }
            }
            b.postReceive(ByteBuffer.allocateDirect(5000), 0);
            nic.progress();
            Completion c;
            while ((c = a.poll()) != null) {
                assertThat(c.status()).isEqualTo(CompletionStatus.OK);
                assertThat(c.cookie()).as("sends complete in order").isEqualTo(acknowledged);
                acknowledged++;
            }
            while ((c = b.poll()) != null) {
                assertThat(c.status()).as(c.toString()).isEqualTo(CompletionStatus.OK);
                int size = (received * 977) % 5000;
                assertThat(c.length()).as("message %d", received).isEqualTo(size);
                assertThat(c.buffer().slice(0, size)).as("message %d intact", received)
                        .isEqualTo(sources.get(received).slice(0, size));
                received++;
            }
        }
        assertThat(received).isEqualTo(messages);
        assertThat(acknowledged).isEqualTo(messages);
        ReliableStats stats = pair[0].reliableStats();
        assertThat(stats.retransmissions()).isPositive();
        assertThat(nic.stats().drops().get(DropReason.CORRUPT)).as("corrupted frames caught").isPositive();
    }

    @Test
    void orderlyCloseDeliversEverythingInFlightThenClosesBothEnds() {
        Nic nic = nic(new FaultConfig(0.2, 0, 0, 0, Duration.ZERO, 5).wrap("loopback:"), 4096);
        Endpoint a = nic.openEndpoint();
        Endpoint b = nic.openEndpoint();
        Channel[] pair = connect(a, b, FAST);
        for (int i = 0; i < 20; i++) {
            b.postReceive(ByteBuffer.allocateDirect(4096), 100 + i);
            assertThat(a.send(pair[0], pattern(3000, i), 0, 3000, SendPath.PINNED, i)).isEqualTo(SendStatus.ACCEPTED);
        }
        pair[0].close();
        assertThatThrownBy(() -> a.send(pair[0], pattern(1, 1), 0, 1, SendPath.PINNED, 99))
                .isInstanceOf(ClosedException.class).hasMessageContaining("closing");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!(pair[0].isClosed() && pair[1].isClosed()) && System.nanoTime() < deadline) {
            nic.progress();
        }
        assertThat(pair[0].isClosed()).isTrue();
        assertThat(pair[1].isClosed()).as("the peer closed on CLOSE").isTrue();
        assertThat(pair[0].closeStatus()).isEqualTo(CompletionStatus.CLOSED);
        int ok = 0;
        Completion c;
        while ((c = a.poll()) != null) {
            assertThat(c.status()).isEqualTo(CompletionStatus.OK);
            ok++;
        }
        assertThat(ok).as("every send queued before close() was acknowledged").isEqualTo(20);
        int delivered = 0;
        while ((c = b.poll()) != null) {
            assertThat(c.status()).isEqualTo(CompletionStatus.OK);
            delivered++;
        }
        assertThat(delivered).isEqualTo(20);
    }

    @Test
    void peerThatVanishesFailsEverythingPendingWithPeerUnreachable() {
        Nic client = nic("loopback:", 4096);
        Nic server = nic("loopback:", 4096);
        Endpoint a = client.openEndpoint();
        Endpoint b = server.openEndpoint();
        Channel[] pair = connect(a, b, FAST);
        b.postReceive(ByteBuffer.allocateDirect(4096), 1);
        a.send(pair[0], pattern(100, 1), 0, 100, SendPath.PINNED, 1);
        assertThat(next(a, Duration.ofSeconds(5)).status()).isEqualTo(CompletionStatus.OK);
        server.close();
        nics.forget(server);
        long start = System.nanoTime();
        for (int i = 2; i < 6; i++) {
            a.send(pair[0], pattern(8000, i), 0, 8000, SendPath.PINNED, i);
        }
        for (int i = 2; i < 6; i++) {
            Completion c = next(a, FAST.worstCaseDeathDetection().plusSeconds(1));
            assertThat(c.status()).isEqualTo(CompletionStatus.PEER_UNREACHABLE);
            assertThat(c.cookie()).isEqualTo(i);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("given up on after peerTimeout, as worstCaseDeathDetection says")
                .isGreaterThanOrEqualTo(FAST.peerTimeout()).isLessThan(FAST.worstCaseDeathDetection().plusMillis(500));
        assertThat(pair[0].isClosed()).isTrue();
        assertThat(pair[0].closeStatus()).isEqualTo(CompletionStatus.PEER_UNREACHABLE);
        assertThatThrownBy(() -> a.send(pair[0], pattern(1, 1), 0, 1, SendPath.PINNED, 9)).isInstanceOf(ClosedException.class);
    }

    @Test
    void idlePeerThatVanishesIsFoundByKeepAlive() {
        Nic client = nic("loopback:", 4096);
        Nic server = nic("loopback:", 4096);
        Endpoint a = client.openEndpoint();
        Endpoint b = server.openEndpoint();
        Channel[] pair = connect(a, b, FAST);
        b.postReceive(ByteBuffer.allocateDirect(4096), 1);
        a.send(pair[0], pattern(100, 1), 0, 100, SendPath.PINNED, 1);
        assertThat(next(a, Duration.ofSeconds(5)).status()).isEqualTo(CompletionStatus.OK);
        // idle past keepAlive (30 ms) and past peerTimeout (300 ms): probed, and answering, so kept. Bounded wait for
        // the probes rather than a fixed 100 ms: a loaded machine's gaps between rounds are not counted as silence
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long idleSince = System.nanoTime();
        while ((pair[0].reliableStats().probes() < 2 || System.nanoTime() - idleSince < FAST.peerTimeout().toNanos())
                && System.nanoTime() < until) {
            nics.progress();
        }
        assertThat(pair[0].reliableStats().probes()).as("keep-alive probes of an idle peer").isGreaterThanOrEqualTo(2);
        assertThat(pair[0].isClosed()).as("an answering idle peer stays, past peerTimeout").isFalse();
        long closed = System.nanoTime();
        server.close();
        nics.forget(server);
        // worstCaseDeathDetection() holds while progress runs; a loaded machine's gaps between rounds (not held
        // against the peer) may add to it, so the loop is bounded with slack and the lower bound is what is exact
        long deadline = closed + FAST.worstCaseDeathDetection().plusSeconds(2).toNanos();
        while (!pair[0].isClosed() && System.nanoTime() < deadline) {
            client.progress();
        }
        assertThat(pair[0].closeStatus()).isEqualTo(CompletionStatus.PEER_UNREACHABLE);
        assertThat(Duration.ofNanos(System.nanoTime() - closed)).as("never declared before peerTimeout")
                .isGreaterThanOrEqualTo(FAST.peerTimeout().minus(FAST.keepAlive()));
    }

    @Test
    void reliableSteadyStateAllocatesNothingPerMessage() {
        Nic nic = nic("loopback:", 4096);
        Endpoint a = nic.openEndpoint();
        Endpoint b = nic.openEndpoint();
        Channel[] pair = connect(a, b, ChannelConfig.reliable()); // checksummed, acknowledgements piggybacked
        ByteBuffer request = pattern(6000, 1); // two fragments: the selective-ack path too
        ByteBuffer reply = pattern(64, 2);
        ByteBuffer atB = ByteBuffer.allocateDirect(8192);
        ByteBuffer atA = ByteBuffer.allocateDirect(8192);
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        int messages = 20_000;
        long allocated = 0;
        int[] completions = new int[1];
        org.unetmm.CompletionHandler count = c -> completions[0]++;
        for (int round = 0; round < 2; round++) { // round 0 warms up (JIT, TLB, pin cache, bitmaps)
            long start = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < messages; i++) {
                b.postReceive(atB, 0, 8192, i);
                a.postReceive(atA, 0, 8192, i);
                a.send(pair[0], request, 0, 6000, SendPath.PINNED, i);
                completions[0] = 0;
                while (completions[0] < 2) { // the request's arrival at b, and a's send acknowledged
                    nic.progress();
                    b.poll(count, 4);
                    a.poll(count, 4);
                }
                b.send(pair[1], reply, 0, 64, SendPath.PINNED, i);
                completions[0] = 0;
                while (completions[0] < 2) {
                    nic.progress();
                    b.poll(count, 4);
                    a.poll(count, 4);
                }
            }
            allocated = threads.getThreadAllocatedBytes(id) - start;
        }
        assertThat(pair[0].reliableStats().messagesAcknowledged()).isEqualTo(2L * messages);
        assertThat(allocated / messages).as("bytes allocated per request and reply on reliable channels").isLessThan(8);
    }

    @Test
    void peerThatRestartedAndAnswersWithoutAcknowledgingIsGivenUpOn() {
        Nic client = nic("loopback:", 4096);
        Nic server = nic("loopback:", 4096);
        Endpoint a = client.openEndpoint();
        Endpoint b = server.openEndpoint();
        Channel[] pair = connect(a, b, FAST);
        b.postReceive(ByteBuffer.allocateDirect(4096), 1);
        a.send(pair[0], pattern(100, 1), 0, 100, SendPath.PINNED, 1);
        assertThat(next(a, Duration.ofSeconds(5)).status()).isEqualTo(CompletionStatus.OK);
        // the server "restarts": a fresh endpoint and channel under the same tag, its sequence state lost
        int tag = pair[1].tag();
        b.close();
        Endpoint restarted = server.openEndpoint();
        Channel fresh = restarted.openChannel(FAST);
        assertThat(fresh.tag()).isEqualTo(tag);
        fresh.connect(pair[0].address());
        restarted.postReceive(ByteBuffer.allocateDirect(4096), 2);
        a.send(pair[0], pattern(100, 2), 0, 100, SendPath.PINNED, 2);
        Completion c = next(a, FAST.worstCaseDeathDetection().plusSeconds(1));
        assertThat(c.status()).as("never acknowledged").isEqualTo(CompletionStatus.PEER_UNREACHABLE);
        assertThat(server.stats().drops().get(DropReason.WRONG_CONNECTION))
                .as("the fresh channel reuses the tag, not the connection: it takes nothing meant for the old one").isPositive();
    }

    @Test
    void unreliablePeerNeverAcknowledgesSoTheSenderGivesUp() {
        Nic nic = nic("loopback:", 4096);
        Endpoint a = nic.openEndpoint();
        Endpoint b = nic.openEndpoint();
        Channel ab = a.openChannel(FAST);
        Channel ba = b.openChannel();
        ab.connect(ba.address());
        ba.connect(ab.address());
        b.postReceive(ByteBuffer.allocateDirect(64), 1);
        a.send(ab, pattern(10, 1), 0, 10, SendPath.PINNED, 1);
        Completion c = next(a, FAST.worstCaseDeathDetection().plusSeconds(1));
        assertThat(c.status()).isEqualTo(CompletionStatus.PEER_UNREACHABLE);
        assertThat(nic.stats().drops().get(DropReason.NOT_RELIABLE)).isPositive();
        assertThat(b.poll()).isNull();
    }
}
