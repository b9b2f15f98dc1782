package org.unetmm.nic.loopback;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.unetmm.Channel;
import org.unetmm.Completion;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.SendStatus;
import org.unetmm.pinning.LockedMemory;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PinCacheConfig;
import org.unetmm.pinning.ProcessStatus;
import org.unetmm.pinning.UnprivilegedJvm;

/**
 * NICs of one process share its locked memory (DESIGN §3): one page reference count, so two NICs
 * whose buffers share a page never unlock it under each other; one budget, RLIMIT_MEMLOCK, that
 * their pins stay within together; and idle pins bounded even where the kernel sets no bound.
 */
@Timeout(240)
class TwoNicsShareLockedMemoryTest {
    private static final long PAGE = NativeMemory.pageSize();
    private static final long MEMLOCK = 8L << 20;

    private long baseline;

    @BeforeEach
    void setUp() {
        baseline = ProcessStatus.vmLckBytes();
    }

    private static NicConfig caller() {
        return NicConfig.builder().progressMode(ProgressMode.CALLER).build();
    }

    private static EndpointConfig noSegment() {
        return EndpointConfig.builder().segmentBytes(0).build();
    }

    /** Connects a channel of {@code x} with one of {@code y}; returns x's. */
    private static Channel connect(Endpoint x, Endpoint y) {
        Channel xy = x.openChannel();
        Channel yx = y.openChannel();
        xy.connect(yx.address());
        yx.connect(xy.address());
        return xy;
    }

    private void expectLocked(String step, long pages) {
        assertThat(ProcessStatus.vmLckBytes() - baseline).as("%s: VmLck", step).isEqualTo(pages * PAGE);
    }

    @Test
    void aPageSharedByTwoNicsStaysLockedUntilTheLastOfThemLetsGo() {
        // one page: NIC A sends from its first half, NIC B receives into its second half
        NativeBuffer shared = NativeMemory.allocate((int) PAGE, true);
        ByteBuffer page = shared.buffer();
        int half = (int) PAGE / 2;
        for (int i = 0; i < half; i++) {
            page.put(i, (byte) (i * 3 + 1));
        }
        try (Nic a = Nic.open(caller()); Nic b = Nic.open(caller())) {
            Endpoint x = a.openEndpoint(noSegment());
            Endpoint y = b.openEndpoint(noSegment());
            Channel xy = connect(x, y);
            expectLocked("two NICs open, no segments", 0);

            y.postReceive(page, half, half, 1);
            b.progress(); // B's round prefetches what was posted
            expectLocked("B posts the second half (its TLB pins the page)", 1);
            assertThat(x.send(xy, page, 0, half, SendPath.PINNED, 2)).isEqualTo(SendStatus.ACCEPTED);
            a.progress();
            b.progress();
            assertThat(x.poll().status()).isEqualTo(CompletionStatus.OK);
            Completion received = y.poll();
            assertThat(received.status()).isEqualTo(CompletionStatus.OK);
            assertThat(received.length()).isEqualTo(half);
            assertThat(page.get(half + 5)).isEqualTo(page.get(5));
            expectLocked("A's TLB pinned the same page: locked once", 1);
            assertThat(a.experiments().pinnedBytes()).isEqualTo(PAGE);
            assertThat(b.experiments().pinnedBytes()).isEqualTo(PAGE);

            y.close();
            b.experiments().evictIdlePins();
            expectLocked("B's endpoint closed and its idle pin evicted: A's TLB still holds the page", 1);
            assertThat(LockedMemory.process().isLocked(shared.address())).isTrue();
            assertThat(b.experiments().pinnedBytes()).isZero();

            b.close();
            expectLocked("B closed", 1);
            x.close();
            a.experiments().evictIdlePins();
            expectLocked("A's endpoint closed and its idle pin evicted", 0);
        }
        expectLocked("both NICs closed", 0);
        shared.close();
    }

    @Test
    void aFreshDirectBufferPerMessageOnAnUnlimitedBudgetKeepsVmLckFlat() {
        int messages = 30_000;
        long cap = PinCacheConfig.DEFAULT_IDLE_BYTES_CAP;
        try (Nic nic = Nic.open(caller())) {
            org.junit.jupiter.api.Assumptions.assumeTrue(nic.experiments().pinBudget().isUnlimited(),
                    "needs an unlimited pin budget (root or CAP_IPC_LOCK); budget is " + nic.experiments().pinBudget());
            Endpoint x = nic.openEndpoint(noSegment());
            Endpoint y = nic.openEndpoint(noSegment());
            Channel xy = connect(x, y);
            ByteBuffer target = ByteBuffer.allocateDirect(64);
            long tlbReach = (long) nic.config().tlbSets() * nic.config().tlbWays() * PAGE;
            for (int message = 0; message < messages; message++) {
                // as the application does: a fresh buffer per message (a page of it, so each message has pages of its own)
                ByteBuffer source = ByteBuffer.allocateDirect((int) PAGE);
                source.put(0, (byte) message);
                y.postReceive(target, message);
                assertThat(x.send(xy, source, 0, 64, SendPath.PINNED, message)).isEqualTo(SendStatus.ACCEPTED);
                nic.progress();
                assertThat(x.await(Duration.ofSeconds(5)).status()).isEqualTo(CompletionStatus.OK);
                assertThat(y.await(Duration.ofSeconds(5)).status()).isEqualTo(CompletionStatus.OK);
                if (message % 1000 == 999) {
                    long locked = ProcessStatus.vmLckBytes() - baseline;
                    assertThat(locked).as("message %d: VmLck within the idle cap plus the TLB's reach", message)
                            .isLessThanOrEqualTo(cap + tlbReach);
                    assertThat(nic.stats().pins().idleRegions()).as("message %d", message)
                            .isLessThanOrEqualTo(PinCacheConfig.DEFAULT_IDLE_REGIONS);
                }
            }
            assertThat(target.get(0)).isEqualTo((byte) (messages - 1));
            assertThat(nic.stats().pins().evictions()).isPositive();
        }
        expectLocked("after close", 0);
    }

    @Test
    void twoDefaultNicsMoveA32MebibyteMessageIntactAsAnOrdinaryUserUnder8Mebibytes() throws Exception {
        try (UnprivilegedJvm jvm = UnprivilegedJvm.prepare()) {
            UnprivilegedJvm.ChildRun run = jvm.run(MEMLOCK, 180, TwoNicsUnderMemlockChild.class.getName(),
                    Long.toString(MEMLOCK), Integer.toString(32 << 20));
            assertThat(run.exitCode()).as("child exit code; its output:%n%s", run.output()).isZero();
            String result = run.output().lines().filter(line -> line.startsWith("RESULT OK twoNics "))
                    .findFirst().orElseThrow(() -> new AssertionError("no RESULT OK line in:\n" + run.output()));
            System.out.println("TwoNicsShareLockedMemoryTest child: " + result);
            assertThat(result).contains("limit=" + MEMLOCK, "size=" + (32 << 20), "rounds=3", "intact=true");
        }
    }
}
