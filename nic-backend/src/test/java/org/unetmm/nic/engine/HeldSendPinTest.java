package org.unetmm.nic.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.NicStats;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.nic.fault.FaultInjectingTransport;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PinBudget;
import org.unetmm.pinning.ProcessStatus;

/**
 * A pinned message of many fragments that a wire keeps after {@code transmit} (the udp wire until
 * its sendmmsg batch is sent; here the fault wire's {@code delay=N}, which holds every fragment
 * for N progress rounds and reads the sender's pages only then) is pinned once for the send, not
 * once per fragment: a 256 KiB message at a 1472-byte MTU is 179 fragments on the same pages.
 * What a user can read says so ({@link NicStats#pins()}: acquisitions are hits plus misses), and
 * invariant 6 still holds: the pages stay locked until the wire lets the fragments go, close
 * leaves nothing locked, and a pin that cannot be had fails the send with a typed completion.
 */
@Timeout(60)
class HeldSendPinTest {
    private static final int MTU = 1472;
    private static final int SIZE = 256 << 10;
    private static final int FRAGMENTS = (SIZE + MTU - 1) / MTU;

    private static Nic open(int rounds, PinBudget budget) {
        NicConfig.Builder b = NicConfig.builder().transport("faulty:loopback:#delay=" + rounds)
                .progressMode(ProgressMode.CALLER).mtu(MTU);
        if (budget != null) {
            b.pinBudget(budget);
        }
        return Nic.open(b.build());
    }

    private static ByteBuffer pattern(int size, int seed) {
        ByteBuffer b = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i++) {
            b.put(i, (byte) (seed + i * 31 + (i >>> 9)));
        }
        return b;
    }

    private static long acquisitions(Nic nic) {
        NicStats s = nic.stats();
        return s.pins().hits() + s.pins().misses();
    }

    /** Progress until {@code ep} reports a completion (bounded in rounds); null if none came. */
    private static Completion progressUntilCompletion(Nic nic, Endpoint ep, int maxRounds) {
        for (int i = 0; i < maxRounds; i++) {
            nic.progress();
            Completion c = ep.poll();
            if (c != null) {
                return c;
            }
        }
        return null;
    }

    @Test
    void aHeldPinnedSendOfManyFragmentsAcquiresThePinCacheOncePerSend() {
        try (Nic nic = open(3, null)) {
            Endpoint a = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Endpoint b = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Channel[] pair = Pairs.connect(a, b);
            ByteBuffer into = ByteBuffer.allocateDirect(SIZE);
            for (int round = 0; round < 2; round++) { // the first warms the TLB; the second is counted
                ByteBuffer message = pattern(SIZE, round);
                assertThat(b.postReceive(into, round).isPosted()).isTrue();
                long acquiredBefore = acquisitions(nic);
                long missesBefore = nic.stats().tlb().misses();
                assertThat(a.send(pair[0], message, 0, SIZE, SendPath.PINNED, round)).isEqualTo(SendStatus.ACCEPTED);

                nic.progress();
                assertThat(FaultInjectingTransport.of(nic).stats().held()).as("every fragment held by the wire")
                        .isEqualTo(FRAGMENTS);
                Completion sent = progressUntilCompletion(nic, a, 100);

                assertThat(sent).isNotNull();
                assertThat(sent.status()).isEqualTo(CompletionStatus.OK);
                assertThat(sent.cookie()).isEqualTo(round);
                assertThat(a.poll()).as("exactly one completion for the send").isNull();
                Completion got = b.poll();
                assertThat(got).isNotNull();
                assertThat(got.status()).isEqualTo(CompletionStatus.OK);
                assertThat(got.length()).isEqualTo(SIZE);
                for (int i = 0; i < SIZE; i++) {
                    if (into.get(i) != message.get(i)) {
                        throw new AssertionError("round " + round + " byte " + i + ": got " + into.get(i)
                                + ", sent " + message.get(i));
                    }
                }
                if (round == 1) {
                    long tlbMisses = nic.stats().tlb().misses() - missesBefore;
                    assertThat(acquisitions(nic) - acquiredBefore - tlbMisses)
                            .as("pin-cache acquisitions beyond the TLB's misses (" + tlbMisses + ") for one send of "
                                    + FRAGMENTS + " held fragments").isEqualTo(1);
                }
            }
        }
    }

    @Test
    void theSendsPagesStayLockedWhileHeldEvenWithoutTranslationsAndCloseUnlocksThem() {
        long baseline = ProcessStatus.vmLckBytes();
        try (Nic nic = open(1_000, null)) {
            Endpoint a = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Endpoint b = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Channel[] pair = Pairs.connect(a, b);
            List<ByteBuffer> messages = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                ByteBuffer m = pattern(SIZE, i);
                messages.add(m);
                assertThat(a.send(pair[0], m, 0, SIZE, SendPath.PINNED, i)).isEqualTo(SendStatus.ACCEPTED);
            }
            nic.progress();
            assertThat(FaultInjectingTransport.of(nic).stats().held()).isEqualTo(2 * FRAGMENTS);

            nic.experiments().shootdown(a); // the TLB lets go of the sender's pages: only the held sends pin them

            assertThat(nic.stats().pins().inUseRegions()).as("one pin per held send").isEqualTo(2);
            assertThat(ProcessStatus.vmLckBytes() - baseline).as("the kernel: both held messages are still locked")
                    .isGreaterThanOrEqualTo(2L * SIZE);
            assertThat(nic.experiments().pinnedBytes()).isGreaterThanOrEqualTo(2L * SIZE);
            assertThat(a.poll()).as("no completion while the wire holds the fragments").isNull();

            a.close();

            List<Completion> done = new ArrayList<>();
            for (Completion c; (c = a.poll()) != null; ) {
                done.add(c);
            }
            assertThat(done).extracting(Completion::cookie).as("each held send completes exactly once")
                    .containsExactly(0L, 1L);
            assertThat(done).allSatisfy(c -> assertThat(c.status()).isIn(CompletionStatus.OK, CompletionStatus.CLOSED));
            assertThat(FaultInjectingTransport.of(nic).stats().held()).isZero();
            assertThat(nic.stats().pins().inUseRegions()).as("nothing pinned for the closed endpoint's sends").isZero();
            assertThat(messages).hasSize(2);
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline after close").isEqualTo(baseline);
    }

    @Test
    void aHeldSendThatOutgrowsThePinBudgetFailsWithATypedCompletionAndLeavesNothingPinned() {
        long baseline = ProcessStatus.vmLckBytes();
        long budget = 16 * NativeMemory.pageSize(); // a quarter of the message: the wire cannot hold it all
        try (Nic nic = open(3, PinBudget.ofBytes(budget))) {
            Endpoint a = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Endpoint b = nic.openEndpoint(EndpointConfig.builder().segmentBytes(0).build());
            Channel[] pair = Pairs.connect(a, b);
            ByteBuffer message = pattern(SIZE, 7);
            assertThat(a.send(pair[0], message, 0, SIZE, SendPath.PINNED, 42)).isEqualTo(SendStatus.ACCEPTED);

            nic.progress();
            int held = FaultInjectingTransport.of(nic).stats().held();
            assertThat(held).as("fragments the budget let the wire hold").isPositive().isLessThan(FRAGMENTS);
            assertThat(nic.stats().pins().peakPinnedBytes()).isLessThanOrEqualTo(budget);
            assertThat(a.poll()).as("the failed send completes when the wire lets its fragments go").isNull();

            Completion failed = progressUntilCompletion(nic, a, 100);

            assertThat(failed).isNotNull();
            assertThat(failed.cookie()).isEqualTo(42);
            assertThat(failed.status()).isEqualTo(CompletionStatus.PIN_FAILED);
            assertThat(failed.detail()).containsIgnoringCase("budget");
            assertThat(a.poll()).as("exactly one completion").isNull();
            assertThat(FaultInjectingTransport.of(nic).stats().held()).isZero();
            a.close();
            assertThat(nic.stats().pins().inUseRegions()).as("nothing pinned for the closed endpoint's send").isZero();
            assertThat(nic.experiments().pinnedBytes()).as("the endpoints are closed: nothing of theirs stays pinned")
                    .isEqualTo(ProcessStatus.vmLckBytes() - baseline);
        }
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline after close").isEqualTo(baseline);
    }
}
