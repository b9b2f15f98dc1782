package org.unetmm.nic.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
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
import org.unetmm.nic.fault.FaultInjectingTransport;
import org.unetmm.pinning.ProcessStatus;

/**
 * A wire that keeps fragments after {@code transmit} returns (a batching wire, the shm
 * rendezvous, {@code MSG_ZEROCOPY}): the fault wire's {@code delay=N} holds every fragment for N
 * progress rounds without a copy and reads the sender's pages only then. The NIC must keep those
 * pages pinned until the wire releases them, complete the send only then, and complete what is
 * held exactly once when the endpoint closes (DESIGN invariants 3, 5 and 6).
 */
@Timeout(60)
class DeferredTransmitTest {
    private static final int MTU = 4096;

    private static Nic open(int rounds) {
        return Nic.open(NicConfig.builder().transport("faulty:loopback:#delay=" + rounds)
                .progressMode(ProgressMode.CALLER).mtu(MTU).build());
    }

    private static ByteBuffer pattern(int size, int seed) {
        ByteBuffer b = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i++) {
            b.put(i, (byte) (seed + i * 13));
        }
        return b;
    }

    @Test
    void aHeldSendCompletesOnlyWhenTheWireReleasesIt() {
        try (Nic nic = open(3)) {
            Endpoint a = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Endpoint b = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Channel[] pair = Pairs.connect(a, b);
            ByteBuffer into = ByteBuffer.allocateDirect(3 * MTU);
            assertThat(b.postReceive(into, 9).isPosted()).isTrue();
            ByteBuffer message = pattern(3 * MTU - 100, 5);
            assertThat(a.send(pair[0], message, 0, message.capacity(), SendPath.PINNED, 1)).isEqualTo(SendStatus.ACCEPTED);

            int rounds = 0;
            Completion sent = null;
            while (sent == null && rounds < 100) {
                nic.progress();
                rounds++;
                sent = a.poll();
                if (sent == null) {
                    assertThat(b.poll()).as("nothing arrives while the wire holds the fragments").isNull();
                }
            }
            assertThat(sent).isNotNull();
            assertThat(sent.status()).isEqualTo(CompletionStatus.OK);
            assertThat(rounds).as("progress rounds until the send completed (held for 3, the first the round that transmitted)").isEqualTo(3);
            assertThat(FaultInjectingTransport.of(nic).stats().held()).isZero();
            Completion got = b.poll();
            assertThat(got).as("the message arrived when the wire released it").isNotNull();
            assertThat(got.status()).isEqualTo(CompletionStatus.OK);
            assertThat(got.length()).isEqualTo(message.capacity());
            for (int i = 0; i < message.capacity(); i++) {
                assertThat(into.get(i)).as("byte " + i).isEqualTo(message.get(i));
            }
        }
    }

    @Test
    void theHeldFragmentsPagesStayPinnedWhenTheTlbDropsTheirTranslations() {
        long baseline = ProcessStatus.vmLckBytes();
        try (Nic nic = open(50)) {
            Endpoint a = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Endpoint b = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Channel[] pair = Pairs.connect(a, b);
            ByteBuffer message = pattern(16 * MTU, 3);
            a.send(pair[0], message, 0, message.capacity(), SendPath.PINNED, 1);
            nic.progress(); // every fragment transmitted and held
            assertThat(FaultInjectingTransport.of(nic).stats().held()).isEqualTo(16);
            int inUseWhileHeld = nic.stats().pins().inUseRegions();

            nic.experiments().shootdown(a); // a shootdown: the TLB lets go of the sender's pages

            assertThat(nic.stats().pins().inUseRegions()).as("the one region the held send's 16 fragments share")
                    .isEqualTo(1).isLessThan(inUseWhileHeld);
            assertThat(ProcessStatus.vmLckBytes() - baseline).as("the held pages are still locked in the kernel")
                    .isGreaterThanOrEqualTo(message.capacity());
            assertThat(a.poll()).as("no completion while the wire holds the fragments").isNull();
            b.postReceive(ByteBuffer.allocateDirect(16 * MTU), 1);

            Completion sent = null;
            for (int i = 0; i < 100 && sent == null; i++) {
                nic.progress();
                sent = a.poll();
            }
            assertThat(sent).isNotNull();
            assertThat(sent.status()).isEqualTo(CompletionStatus.OK);
            Completion got = b.poll();
            assertThat(got).isNotNull();
            assertThat(got.buffer().get(got.offset() + 5 * MTU + 7)).isEqualTo(message.get(5 * MTU + 7));
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline after close").isEqualTo(baseline);
    }

    @Test
    void closingTheEndpointCompletesHeldSendsOnceAndUnpinsEverything() {
        long baseline = ProcessStatus.vmLckBytes();
        try (Nic nic = open(1_000)) {
            Endpoint a = nic.openEndpoint(EndpointConfig.builder().segmentBytes(64 << 10).build());
            Endpoint b = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Channel[] pair = Pairs.connect(a, b);
            for (int i = 0; i < 4; i++) {
                b.postReceive(ByteBuffer.allocateDirect(4 * MTU), 100 + i);
            }
            List<ByteBuffer> keep = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                ByteBuffer m = pattern(2 * MTU + i, i);
                keep.add(m);
                SendPath path = i % 2 == 0 ? SendPath.PINNED : SendPath.FIXED_SEGMENT;
                assertThat(a.send(pair[0], m, 0, m.capacity(), path, i)).isEqualTo(SendStatus.ACCEPTED);
            }
            nic.progress();
            assertThat(FaultInjectingTransport.of(nic).stats().held()).as("2 + 3 + 3 + 3 fragments").isEqualTo(11);
            assertThat(a.poll()).isNull();

            a.close();

            List<Long> cookies = new ArrayList<>();
            for (Completion c; (c = a.poll()) != null; ) {
                assertThat(c.kind()).isEqualTo(Completion.Kind.SEND);
                assertThat(c.status()).isIn(CompletionStatus.OK, CompletionStatus.CLOSED);
                cookies.add(c.cookie());
            }
            assertThat(cookies).as("each held send completes exactly once, in order").containsExactly(0L, 1L, 2L, 3L);
            assertThat(FaultInjectingTransport.of(nic).stats().held()).as("the wire was flushed").isZero();
            assertThat(keep).hasSize(4);
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline").isEqualTo(baseline);
    }

    @Test
    void reliableSendsThroughAHoldingWireCompleteOnAcknowledgementAfterRelease() {
        try (Nic nic = open(2)) {
            Endpoint a = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Endpoint b = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Channel ab = a.openChannel(ChannelConfig.reliable());
            Channel ba = b.openChannel(ChannelConfig.reliable());
            ab.connect(ba.address());
            ba.connect(ab.address());
            int messages = 20;
            for (int i = 0; i < messages; i++) {
                b.postReceive(ByteBuffer.allocateDirect(4 * MTU), i);
            }
            List<ByteBuffer> sent = new ArrayList<>();
            for (int i = 0; i < messages; i++) {
                ByteBuffer m = pattern(MTU + 500 * i, i);
                sent.add(m);
                assertThat(a.send(ab, m, 0, m.capacity(), SendPath.PINNED, i)).isEqualTo(SendStatus.ACCEPTED);
            }
            List<Completion> done = new ArrayList<>();
            List<Completion> got = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while ((done.size() < messages || got.size() < messages) && System.nanoTime() < deadline) {
                nic.progress();
                for (Completion c; (c = a.poll()) != null; ) {
                    done.add(c);
                }
                for (Completion c; (c = b.poll()) != null; ) {
                    got.add(c);
                }
            }
            assertThat(done).hasSize(messages).allSatisfy(c -> assertThat(c.status()).isEqualTo(CompletionStatus.OK));
            assertThat(done).extracting(Completion::cookie).isSorted();
            assertThat(got).hasSize(messages);
            for (int i = 0; i < messages; i++) {
                Completion c = got.get(i);
                assertThat(c.length()).isEqualTo(sent.get(i).capacity());
                assertThat(c.buffer().get(c.offset() + c.length() - 1)).isEqualTo(sent.get(i).get(c.length() - 1));
            }
        }
    }
}
