package org.unetmm.pinning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.unetmm.pinning.KernelView.PAGE;
import static org.unetmm.pinning.KernelView.lockedSince;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;

/** The counters a pressure experiment reports: hits, misses, evictions, invalidations, system calls. */
@Timeout(30)
@ResourceLock(KernelView.LOCKED_MEMORY)
class PinCacheStatsTest {
    private static final int P = (int) PAGE;

    @Test
    void acquireLocksPagesAndIdleHitMakesNoSystemCall() {
        long baseline = ProcessStatus.vmLckBytes();
        ByteBuffer buffer = ByteBuffer.allocateDirect(3 * P);
        try (PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(1 << 20).build())) {
            PinHandle handle = cache.acquire(buffer, 100, 5000);
            assertThat(lockedSince(baseline)).isEqualTo(cache.pinnedBytes()).isPositive();
            assertThat(handle.address()).isEqualTo(NativeMemory.address(buffer) + 100);
            assertThat(handle.length()).isEqualTo(5000);
            assertThat(handle.pages()).isEqualTo(PageRange.of(handle.address(), 5000));
            handle.release();
            long locks = cache.stats().lockCalls();

            PinHandle again = cache.acquire(buffer, 100, 5000);
            assertThat(cache.stats().lockCalls()).as("an idle hit locks nothing").isEqualTo(locks);
            assertThat(cache.stats().hits()).isEqualTo(1);
            again.release();
        }
        assertThat(ProcessStatus.vmLckBytes()).isEqualTo(baseline);
    }

    @Test
    void hitsMissesEvictionsAndInvalidationsAreCounted() {
        NativeBuffer memory = NativeMemory.allocate(16 * P);
        try (PinCache cache = new PinCache(PinCacheConfig.builder().budgetBytes(8 * PAGE).build())) {
            PinHandle a = cache.acquire(memory, 0, 2 * P);               // miss
            PinHandle a2 = cache.acquire(memory, 10, 2 * P - 20);        // same pages, in use: hit
            a.release();
            a2.release();
            cache.acquire(memory, 0, 2 * P).release();                   // idle: hit
            cache.acquire(memory, 2 * P, 3 * P).release();               // miss (pages 2-4)
            cache.acquire(memory, 5 * P, 3 * P).release();               // miss (pages 5-7), budget full
            cache.acquire(memory, 8 * P, 2 * P).release();               // miss, evicts to make room
            PinStats stats = cache.stats();
            assertThat(stats.misses()).isEqualTo(4);
            assertThat(stats.hits()).isEqualTo(2);
            assertThat(stats.hitRate()).isEqualTo(2.0 / 6);
            assertThat(stats.evictions()).isPositive();
            assertThat(stats.inUseRegions()).isZero();
            assertThat(stats.idleRegions()).isEqualTo(cache.idleRegions()).isPositive();
            assertThat(stats.pinnedBytes()).isEqualTo(cache.pinnedBytes()).isLessThanOrEqualTo(8 * PAGE);
            assertThat(stats.peakPinnedBytes()).isEqualTo(8 * PAGE);
            assertThat(stats.lockCalls()).isEqualTo(4);
            assertThat(stats.unlockCalls()).isEqualTo(stats.evictions());
            assertThat(stats.pinLatency().getTotalCount()).isEqualTo(4);
            assertThat(stats.unpinLatency().getTotalCount()).isEqualTo(stats.evictions());

            long evictions = stats.evictions();
            int idle = stats.idleRegions();
            cache.evictIdle();
            assertThat(cache.stats().evictions()).isEqualTo(evictions + idle);

            cache.acquire(memory, 12 * P, P).release();
            cache.invalidate(memory.address() + 12L * P, 1);
            assertThat(cache.stats().invalidations()).isEqualTo(1);
            assertThat(cache.stats().evictions()).as("an invalidation is not an eviction").isEqualTo(evictions + idle);
            assertThat(cache.stats().toString()).contains("hits=").contains("misses=").contains("evictions=");
        } finally {
            memory.close();
        }
    }
}
