package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.unetmm.pinning.KernelView.PAGE;
import static org.unetmm.pinning.KernelView.lockedSince;

import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * Idle regions are bounded on their own, by pages and by count, even where the kernel would let
 * the process lock without limit: past the cap the coldest idle region is unpinned and lets its
 * buffer go, so a sender that uses a fresh direct buffer per message keeps VmLck flat and its
 * dead buffers are collected.
 */
@Timeout(120)
@ResourceLock(KernelView.LOCKED_MEMORY)
class PinCacheIdleCapTest {
    private static final int P = (int) PAGE;
    private static final int MESSAGES = 40_000;

    private long baseline;

    @BeforeEach
    void setUp() {
        baseline = ProcessStatus.vmLckBytes();
    }

    @AfterEach
    void tearDown() {
        assertThat(ProcessStatus.vmLckBytes()).as("VmLck back at baseline").isEqualTo(baseline);
    }

    @Test
    void freshBufferPerMessageOnAnUnlimitedBudgetKeepsVmLckAndIdleRegionsBoundedAndBuffersCollectable() {
        long cap = PinCacheConfig.DEFAULT_IDLE_BYTES_CAP;
        WeakReference<ByteBuffer> first = null;
        try (PinCache cache = new PinCache(PinCacheConfig.builder().budget(PinBudget.unlimited()).build())) {
            assertThat(cache.budget().isUnlimited()).isTrue();
            for (int message = 0; message < MESSAGES; message++) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(P); // as the application does: one per message
                buffer.put(0, (byte) message);
                if (first == null) {
                    first = new WeakReference<>(buffer);
                }
                cache.acquire(buffer, 0, 64).release();
                if (message % 1000 == 999) {
                    long locked = lockedSince(baseline);
                    assertThat(locked).as("message %d: VmLck is the cache's pinned bytes", message)
                            .isEqualTo(cache.pinnedBytes());
                    assertThat(locked).as("message %d: VmLck within the idle cap", message).isLessThanOrEqualTo(cap);
                    assertThat(cache.idleBytes()).as("message %d", message).isLessThanOrEqualTo(cap);
                    assertThat(cache.idleRegions()).as("message %d", message)
                            .isLessThanOrEqualTo(PinCacheConfig.DEFAULT_IDLE_REGIONS);
                }
            }
            assertThat(cache.stats().evictions()).as("the cap evicted").isPositive();
            assertThat(cache.stats().misses()).isEqualTo(MESSAGES);
            assertThat(cache.inUseRegions()).isZero();
            // the first message's region went long ago, and with it the cache's hold on the buffer
            for (int attempt = 0; attempt < 50 && first.get() != null; attempt++) {
                System.gc();
                Thread.onSpinWait();
            }
            assertThat(first.get()).as("the first message's buffer is collectable").isNull();
        }
    }

    @Test
    void configuredCapsBoundIdleRegionsByCountAndByPages() {
        NativeBuffer memory = NativeMemory.allocate(32 * P, true);
        try (PinCache byCount = new PinCache(PinCacheConfig.builder().budget(PinBudget.unlimited())
                .maxIdleRegions(3).build())) {
            for (int page = 0; page < 10; page++) {
                byCount.acquire(memory, page * P, P).release();
                assertThat(byCount.idleRegions()).as("after page %d", page).isEqualTo(Math.min(page + 1, 3));
                assertThat(lockedSince(baseline)).isEqualTo(byCount.idleRegions() * PAGE).isEqualTo(byCount.pinnedBytes());
            }
            assertThat(byCount.stats().evictions()).isEqualTo(7);
        }
        try (PinCache byPages = new PinCache(PinCacheConfig.builder().budget(PinBudget.unlimited())
                .maxIdleBytes(8 * PAGE).build())) {
            for (int region = 0; region < 6; region++) {
                byPages.acquire(memory, region * 4 * P, 4 * P).release();
                assertThat(byPages.idleBytes()).as("after region %d", region).isLessThanOrEqualTo(8 * PAGE);
                assertThat(lockedSince(baseline)).isEqualTo(byPages.pinnedBytes()).isLessThanOrEqualTo(8 * PAGE);
            }
            // a region in use is not idle: it may pass the idle cap, up to the budget
            PinHandle big = byPages.acquire(memory, 0, 16 * P);
            assertThat(lockedSince(baseline)).isGreaterThanOrEqualTo(16 * PAGE);
            big.release();
            assertThat(byPages.idleBytes()).isLessThanOrEqualTo(8 * PAGE);
        }
        try (PinCache none = new PinCache(PinCacheConfig.builder().budget(PinBudget.unlimited()).maxIdleBytes(0).build())) {
            PinHandle held = none.acquire(memory, 0, P);
            assertThat(lockedSince(baseline)).isEqualTo(PAGE);
            held.release();
            assertThat(lockedSince(baseline)).as("no idle pins kept").isZero();
            assertThat(none.idleRegions()).isZero();
        }
        memory.close();
    }

    @Test
    void idleCapsDefaultToSixtyFourMebibytesOrTheBudgetAndAreValidated() {
        assertThat(PinCacheConfig.builder().budget(PinBudget.unlimited()).build().maxIdleBytes()).isEqualTo(64L << 20);
        assertThat(PinCacheConfig.builder().budgetBytes(1 << 20).build().maxIdleBytes()).isEqualTo(1 << 20);
        assertThat(new PinCacheConfig(PinBudget.unlimited()).maxIdleRegions()).isEqualTo(PinCacheConfig.DEFAULT_IDLE_REGIONS);
        assertThatThrownBy(() -> PinCacheConfig.builder().maxIdleBytes(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxIdleBytes");
        assertThatThrownBy(() -> PinCacheConfig.builder().budget(PinBudget.unlimited()).maxIdleRegions(-1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxIdleRegions");
    }
}
